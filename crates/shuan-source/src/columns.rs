//! Reading chosen columns of one table, every row, as fast as the source allows, and the
//! set-based checks a database answers better than a client can (duplicates, values
//! missing from another table): what data-quality rules (数据质量, R-07) read.
//!
//! PostgreSQL streams with `COPY (SELECT …::text …) TO STDOUT` in text format, parsed
//! here ([`parse_copy_line`]): the server sends rows without per-row protocol messages,
//! about twice as fast as a cursor of text rows (see `bench/quality-vs-psql.sh`).
//! MySQL/MariaDB streams a text-protocol result row by row; SQLite steps a statement;
//! files are read with their [`crate::RowReader`]. Memory is one row (plus the driver's
//! buffer) whatever the table's size. Identifiers are quoted; there are no values in any
//! statement here. Connections are the read-only ones of [`crate::query`].

use crate::db_url::quote_double;
use crate::{SourceError, SourceOptions};

/// Which table, on which source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    /// PostgreSQL schema or MySQL database; `None` for SQLite and files.
    pub schema: Option<String>,
    /// The table: a table name, or for files the table's name as [`crate::TableRef::name`].
    pub table: String,
}

/// Duplicated values of a column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// Rows whose value an earlier row already has (each value's count less one, summed).
    pub extra_rows: u64,
    /// Up to the asked number of duplicated values with how many rows have each.
    pub samples: Vec<(String, u64)>,
}

/// Values of a column that another table's column does not have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Orphans {
    /// Rows whose (non-NULL) value is missing from the referenced column.
    pub rows: u64,
    /// Up to the asked number of such values.
    pub samples: Vec<String>,
}

/// What kind of source a spec names, for choosing how to read it.
enum Kind {
    Postgres,
    Mysql,
    Sqlite(std::path::PathBuf),
    File,
}

fn kind_of(spec: &str) -> Kind {
    let lower = spec.get(..16).unwrap_or(spec).to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Kind::Postgres
    } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        Kind::Mysql
    } else if let Some(path) = crate::query::is_sqlite_spec(spec) {
        Kind::Sqlite(path)
    } else {
        Kind::File
    }
}

/// Whether the source is a database that answers SQL (PostgreSQL, MySQL/MariaDB,
/// SQLite): [`duplicates`] and [`orphans`] answer `None` for the others.
pub fn runs_sql(spec: &str) -> bool {
    !matches!(kind_of(spec), Kind::File)
}

fn db_error(spec: &str, message: impl Into<String>) -> SourceError {
    SourceError::Database {
        source_name: crate::canonical_source_name(spec),
        message: message.into(),
    }
}

fn quote_backtick(s: &str) -> String {
    crate::db_url::quote_backtick(s)
}

/// The table's name in SQL for the source's dialect.
fn qualified(kind: &Kind, t: &TableSpec) -> String {
    let q = |s: &str| match kind {
        Kind::Mysql => quote_backtick(s),
        _ => quote_double(s),
    };
    match &t.schema {
        Some(schema) => format!("{}.{}", q(schema), q(&t.table)),
        None => q(&t.table),
    }
}

/// An SQLite value as text, `None` for NULL (and for a BLOB, which has no text form).
fn sqlite_text(v: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null | ValueRef::Blob(_) => None,
        ValueRef::Integer(v) => Some(v.to_string()),
        ValueRef::Real(v) => Some(v.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// A MySQL value of a text-protocol row as text, `None` for NULL.
#[cfg(feature = "mysql")]
fn mysql_text(v: Option<&mysql::Value>) -> Option<String> {
    match v {
        None | Some(mysql::Value::NULL) => None,
        Some(mysql::Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(other) => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// Calls `visit` with the values of `columns` (in that order; `None` for NULL) of every
/// row of the table, and answers the number of rows. `progress` (if any) is told the
/// rows read, every 65,536 rows and at the end. A column that is not there is an error
/// naming the table's columns (files) or the database's message.
pub fn for_each_row(
    spec: &str,
    table: &TableSpec,
    columns: &[String],
    options: &SourceOptions,
    mut visit: impl FnMut(&[Option<&str>]),
) -> Result<u64, SourceError> {
    let kind = kind_of(spec);
    match kind {
        Kind::Postgres => postgres_rows(spec, table, columns, options, &mut visit),
        Kind::Mysql => mysql_rows(spec, table, columns, options, &mut visit),
        Kind::Sqlite(ref path) => {
            let conn = crate::sqlite::connect(path)?;
            let list: Vec<String> = columns.iter().map(|c| quote_double(c)).collect();
            let sql = format!(
                "SELECT {} FROM {}",
                list.join(", "),
                qualified(&kind, table)
            );
            let mut stmt = conn
                .prepare(&sql)
                .map_err(|e| db_error(spec, e.to_string()))?;
            let mut rows = stmt.query([]).map_err(|e| db_error(spec, e.to_string()))?;
            let mut texts: Vec<Option<String>> = vec![None; columns.len()];
            let mut n = 0u64;
            while let Some(row) = rows.next().map_err(|e| db_error(spec, e.to_string()))? {
                for (i, slot) in texts.iter_mut().enumerate() {
                    *slot = sqlite_text(row.get_ref(i).map_err(|e| db_error(spec, e.to_string()))?);
                }
                let values: Vec<Option<&str>> = texts.iter().map(|v| v.as_deref()).collect();
                visit(&values);
                n += 1;
                if n % 65_536 == 0 {
                    options.report(65_536);
                }
            }
            options.report(n % 65_536);
            Ok(n)
        }
        Kind::File => file_rows(spec, table, columns, options, &mut visit),
    }
}

fn file_rows(
    spec: &str,
    table: &TableSpec,
    columns: &[String],
    options: &SourceOptions,
    visit: &mut dyn FnMut(&[Option<&str>]),
) -> Result<u64, SourceError> {
    // Progress of files is in bytes (the reader reports it); rows are counted here.
    let mut source = crate::open(spec, options)?;
    let tables = source.tables()?;
    let Some(table_ref) = tables.iter().find(|t| t.name == table.table) else {
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        return Err(db_error(
            spec,
            format!("no table {} (tables: {})", table.table, names.join(", ")),
        ));
    };
    let mut reader = source.open_table(table_ref)?;
    let mut index = Vec::with_capacity(columns.len());
    for c in columns {
        match reader.columns().iter().position(|m| &m.name == c) {
            Some(i) => index.push(i),
            None => {
                let names: Vec<&str> = reader.columns().iter().map(|m| m.name.as_str()).collect();
                return Err(db_error(
                    spec,
                    format!(
                        "table {} has no column {c} (columns: {})",
                        table.table,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    let mut row: Vec<Option<String>> = Vec::new();
    let mut n = 0u64;
    while let Some(next) = reader.next_row_into(&mut row) {
        match next {
            Ok(()) => {
                let values: Vec<Option<&str>> = index
                    .iter()
                    .map(|&i| row.get(i).and_then(|v| v.as_deref()))
                    .collect();
                visit(&values);
                n += 1;
            }
            // A malformed row is not a row of the table (it is counted by scans).
            Err(e) if e.is_row_error() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(feature = "postgres")]
fn postgres_rows(
    spec: &str,
    table: &TableSpec,
    columns: &[String],
    options: &SourceOptions,
    visit: &mut dyn FnMut(&[Option<&str>]),
) -> Result<u64, SourceError> {
    use std::io::BufRead;
    let mut client = crate::postgres_source::connect_read_only(spec)?;
    let list: Vec<String> = columns
        .iter()
        .map(|c| format!("{}::text", quote_double(c)))
        .collect();
    let sql = format!(
        "COPY (SELECT {} FROM {}) TO STDOUT",
        list.join(", "),
        qualified(&Kind::Postgres, table)
    );
    let reader = client
        .copy_out(sql.as_str())
        .map_err(|e| db_error(spec, crate::postgres_source::pg_message(&e)))?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, reader);
    let mut line = Vec::with_capacity(1024);
    let mut fields = CopyFields::new(columns.len());
    let mut n = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| db_error(spec, format!("reading COPY output: {e}")))?;
        if read == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        parse_copy_line(&line, &mut fields)
            .map_err(|m| db_error(spec, format!("row {}: {m}", n + 1)))?;
        if fields.len() != columns.len() {
            return Err(db_error(
                spec,
                format!(
                    "row {}: COPY gave {} fields for {} columns",
                    n + 1,
                    fields.len(),
                    columns.len()
                ),
            ));
        }
        visit(&fields.values());
        n += 1;
        if n % 65_536 == 0 {
            options.report(65_536);
        }
    }
    options.report(n % 65_536);
    Ok(n)
}

#[cfg(not(feature = "postgres"))]
fn postgres_rows(
    _: &str,
    _: &TableSpec,
    _: &[String],
    _: &SourceOptions,
    _: &mut dyn FnMut(&[Option<&str>]),
) -> Result<u64, SourceError> {
    Err(crate::not_built_in("PostgreSQL", "postgres"))
}

#[cfg(feature = "mysql")]
fn mysql_rows(
    spec: &str,
    table: &TableSpec,
    columns: &[String],
    options: &SourceOptions,
    visit: &mut dyn FnMut(&[Option<&str>]),
) -> Result<u64, SourceError> {
    use mysql::prelude::Queryable;
    let mut conn = crate::mysql_source::connect_read_only(spec)?;
    let list: Vec<String> = columns
        .iter()
        .map(|c| format!("CAST({} AS CHAR)", quote_backtick(c)))
        .collect();
    let sql = format!(
        "SELECT {} FROM {}",
        list.join(", "),
        qualified(&Kind::Mysql, table)
    );
    let mut result = conn
        .query_iter(sql)
        .map_err(|e| db_error(spec, e.to_string()))?;
    let mut texts: Vec<Option<String>> = vec![None; columns.len()];
    let mut n = 0u64;
    if let Some(set) = result.iter() {
        for row in set {
            let row = row.map_err(|e| db_error(spec, e.to_string()))?;
            for (i, slot) in texts.iter_mut().enumerate() {
                *slot = mysql_text(row.as_ref(i));
            }
            let values: Vec<Option<&str>> = texts.iter().map(|v| v.as_deref()).collect();
            visit(&values);
            n += 1;
            if n % 65_536 == 0 {
                options.report(65_536);
            }
        }
    }
    options.report(n % 65_536);
    Ok(n)
}

#[cfg(not(feature = "mysql"))]
fn mysql_rows(
    _: &str,
    _: &TableSpec,
    _: &[String],
    _: &SourceOptions,
    _: &mut dyn FnMut(&[Option<&str>]),
) -> Result<u64, SourceError> {
    Err(crate::not_built_in("MySQL/MariaDB", "mysql"))
}

/// Runs one select of text columns and collects every row (for the small answers of the
/// set-based checks: a count and a few samples).
fn small_select(spec: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, SourceError> {
    match kind_of(spec) {
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            let mut client = crate::postgres_source::connect_read_only(spec)?;
            let rows = client
                .query(sql, &[])
                .map_err(|e| db_error(spec, crate::postgres_source::pg_message(&e)))?;
            Ok(rows
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.get::<_, Option<String>>(i))
                        .collect()
                })
                .collect())
        }
        #[cfg(feature = "mysql")]
        Kind::Mysql => {
            use mysql::prelude::Queryable;
            let mut conn = crate::mysql_source::connect_read_only(spec)?;
            let rows: Vec<mysql::Row> =
                conn.query(sql).map_err(|e| db_error(spec, e.to_string()))?;
            Ok(rows
                .iter()
                .map(|r| (0..r.len()).map(|i| mysql_text(r.as_ref(i))).collect())
                .collect())
        }
        Kind::Sqlite(path) => {
            let conn = crate::sqlite::connect(&path)?;
            let mut stmt = conn
                .prepare(sql)
                .map_err(|e| db_error(spec, e.to_string()))?;
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    (0..n)
                        .map(|i| Ok(sqlite_text(r.get_ref(i)?)))
                        .collect::<Result<Vec<_>, rusqlite::Error>>()
                })
                .map_err(|e| db_error(spec, e.to_string()))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(|e| db_error(spec, e.to_string()))
        }
        #[allow(unreachable_patterns)]
        _ => Err(db_error(spec, "not a database source")),
    }
}

fn count_of(spec: &str, v: Option<&Option<String>>) -> Result<u64, SourceError> {
    match v {
        None | Some(None) => Ok(0),
        Some(Some(t)) => t
            .parse::<f64>()
            .map(|f| f as u64)
            .map_err(|_| db_error(spec, format!("a count came back as {t:?}"))),
    }
}

/// Duplicated values of `column`, NULL and blank aside (as files, whose blanks are their
/// NULLs),, counted by the database (`GROUP BY … HAVING
/// count(*) > 1`, which it can spill to disk: memory stays bounded on any size). `None`
/// for file sources, which have no engine to ask: the caller counts them itself.
pub fn duplicates(
    spec: &str,
    table: &TableSpec,
    column: &str,
    samples: usize,
) -> Result<Option<Duplicates>, SourceError> {
    let kind = kind_of(spec);
    if matches!(kind, Kind::File) {
        return Ok(None);
    }
    let (col, text) = match kind {
        Kind::Mysql => (
            quote_backtick(column),
            format!("CAST({} AS CHAR)", quote_backtick(column)),
        ),
        _ => (
            quote_double(column),
            format!("CAST({} AS TEXT)", quote_double(column)),
        ),
    };
    let from = qualified(&kind, table);
    let groups = format!(
        "SELECT {text} AS v, count(*) AS n FROM {from} WHERE {col} IS NOT NULL \
         AND TRIM({text}) <> '' \
         GROUP BY {col} HAVING count(*) > 1"
    );
    let cast = match kind {
        Kind::Mysql => "CHAR",
        _ => "TEXT",
    };
    let total = small_select(
        spec,
        &format!("SELECT CAST(COALESCE(sum(n - 1), 0) AS {cast}) FROM ({groups}) d"),
    )?;
    let extra_rows = count_of(spec, total.first().and_then(|r| r.first()))?;
    let mut found = Vec::new();
    if extra_rows > 0 && samples > 0 {
        let rows = small_select(
            spec,
            &format!(
                "SELECT v, CAST(n AS {cast}) FROM ({groups}) d ORDER BY n DESC, v LIMIT {samples}"
            ),
        )?;
        for r in rows {
            let v = r.first().cloned().flatten().unwrap_or_default();
            let n = count_of(spec, r.get(1))?;
            found.push((v, n));
        }
    }
    Ok(Some(Duplicates {
        extra_rows,
        samples: found,
    }))
}

/// Rows whose non-NULL `column` value is not in `referenced`'s `referenced_column`, on
/// the same source (`NOT EXISTS`, which the database answers with an anti-join). `None`
/// for file sources.
pub fn orphans(
    spec: &str,
    table: &TableSpec,
    column: &str,
    referenced: &TableSpec,
    referenced_column: &str,
    samples: usize,
) -> Result<Option<Orphans>, SourceError> {
    let kind = kind_of(spec);
    if matches!(kind, Kind::File) {
        return Ok(None);
    }
    let q = |s: &str| match kind {
        Kind::Mysql => quote_backtick(s),
        _ => quote_double(s),
    };
    let cast = match kind {
        Kind::Mysql => "CHAR",
        _ => "TEXT",
    };
    let from = qualified(&kind, table);
    let other = qualified(&kind, referenced);
    let (col, rcol) = (q(column), q(referenced_column));
    let missing = format!(
        "FROM {from} a WHERE a.{col} IS NOT NULL AND TRIM(CAST(a.{col} AS {cast})) <> '' \
         AND NOT EXISTS \
         (SELECT 1 FROM {other} b WHERE b.{rcol} = a.{col})"
    );
    let total = small_select(spec, &format!("SELECT CAST(count(*) AS {cast}) {missing}"))?;
    let rows = count_of(spec, total.first().and_then(|r| r.first()))?;
    let mut found = Vec::new();
    if rows > 0 && samples > 0 {
        for r in small_select(
            spec,
            &format!("SELECT DISTINCT CAST(a.{col} AS {cast}) {missing} LIMIT {samples}"),
        )? {
            found.push(r.first().cloned().flatten().unwrap_or_default());
        }
    }
    Ok(Some(Orphans {
        rows,
        samples: found,
    }))
}

/// The fields of one line of PostgreSQL's COPY text format, kept between lines so that
/// reading allocates only when a field grows past what an earlier row needed.
#[derive(Debug, Default)]
pub struct CopyFields {
    texts: Vec<String>,
    nulls: Vec<bool>,
    len: usize,
}

impl CopyFields {
    /// Room for `columns` fields.
    pub fn new(columns: usize) -> CopyFields {
        CopyFields {
            texts: vec![String::new(); columns],
            nulls: vec![false; columns],
            len: 0,
        }
    }

    /// Fields on the last line parsed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the last line had no field (never: an empty line is one empty field).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The values of the last line parsed, `None` for `\N`.
    pub fn values(&self) -> Vec<Option<&str>> {
        (0..self.len)
            .map(|i| (!self.nulls[i]).then(|| self.texts[i].as_str()))
            .collect()
    }
}

/// Parses one line (without its `\n`) of COPY's text format into `out`: fields split at
/// tab, `\N` alone is NULL, and backslash escapes decoded (`\b \f \n \r \t \v \\`, octal
/// `\ooo` and hex `\xhh`; any other escaped character stands for itself), as PostgreSQL
/// documents for `COPY … FROM` — a superset of what `COPY … TO` writes. Answers an error
/// message for text that is not UTF-8 after decoding.
pub fn parse_copy_line(line: &[u8], out: &mut CopyFields) -> Result<(), String> {
    out.len = 0;
    let mut bytes: Vec<u8> = Vec::new();
    for raw in line.split(|&b| b == b'\t') {
        if out.len == out.texts.len() {
            out.texts.push(String::new());
            out.nulls.push(false);
        }
        let i = out.len;
        out.len += 1;
        if raw == b"\\N" {
            out.nulls[i] = true;
            out.texts[i].clear();
            continue;
        }
        out.nulls[i] = false;
        let text = &mut out.texts[i];
        text.clear();
        if !raw.contains(&b'\\') {
            match std::str::from_utf8(raw) {
                Ok(s) => text.push_str(s),
                Err(_) => return Err(format!("field {} is not UTF-8", i + 1)),
            }
            continue;
        }
        bytes.clear();
        let mut k = 0;
        while k < raw.len() {
            let b = raw[k];
            if b != b'\\' || k + 1 == raw.len() {
                bytes.push(b);
                k += 1;
                continue;
            }
            let e = raw[k + 1];
            k += 2;
            match e {
                b'b' => bytes.push(0x08),
                b'f' => bytes.push(0x0c),
                b'n' => bytes.push(b'\n'),
                b'r' => bytes.push(b'\r'),
                b't' => bytes.push(b'\t'),
                b'v' => bytes.push(0x0b),
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    let mut digits = 1;
                    while digits < 3 && k < raw.len() && (b'0'..=b'7').contains(&raw[k]) {
                        v = v * 8 + u32::from(raw[k] - b'0');
                        k += 1;
                        digits += 1;
                    }
                    bytes.push((v & 0xff) as u8);
                }
                b'x' if k < raw.len() && raw[k].is_ascii_hexdigit() => {
                    let mut v = 0u32;
                    let mut digits = 0;
                    while digits < 2 && k < raw.len() && raw[k].is_ascii_hexdigit() {
                        v = v * 16 + (raw[k] as char).to_digit(16).unwrap_or(0);
                        k += 1;
                        digits += 1;
                    }
                    bytes.push(v as u8);
                }
                other => bytes.push(other),
            }
        }
        match std::str::from_utf8(&bytes) {
            Ok(s) => text.push_str(s),
            Err(_) => return Err(format!("field {} is not UTF-8", i + 1)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Vec<Option<String>> {
        let mut f = CopyFields::new(1);
        parse_copy_line(line.as_bytes(), &mut f).unwrap();
        f.values()
            .into_iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn splits_fields_and_nulls() {
        assert_eq!(
            parse("a\t\\N\t\t张三"),
            vec![
                Some("a".into()),
                None,
                Some(String::new()),
                Some("张三".into())
            ]
        );
        assert_eq!(parse(""), vec![Some(String::new())]);
        // A literal backslash-N inside a value is not NULL.
        assert_eq!(parse("\\\\N"), vec![Some("\\N".into())]);
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(
            parse("a\\tb\\nc\\\\d\\re\\bf\\fg\\vh"),
            vec![Some("a\tb\nc\\d\re\u{8}f\u{c}g\u{b}h".into())]
        );
        assert_eq!(parse("\\101\\x42\\q"), vec![Some("ABq".into())]);
        // A trailing lone backslash is kept.
        assert_eq!(parse("x\\"), vec![Some("x\\".into())]);
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        let mut f = CopyFields::new(1);
        assert!(parse_copy_line(b"\xff", &mut f).is_err());
        assert!(parse_copy_line(b"\\377", &mut f).is_err());
    }
}
