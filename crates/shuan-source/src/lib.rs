//! Read-only, streaming access to data sources for shuan.
//!
//! Owns: CSV/TSV (with encoding detection), XLSX, JSON/JSONL, Parquet, SQLite, PostgreSQL,
//! MySQL/MariaDB and directories, exposed as tables of rows.
//! Must not: write to any source, or print credentials.
//!
//! Entry point: [`open`] turns a path or URL into a [`Source`]; a source lists its
//! [`TableRef`]s, streams rows through a [`RowReader`] and samples non-empty values per
//! column with [`Source::sample_table`]. [`query`] runs parameterised selects (the data
//! gateway's lookups) over a kept read-only connection. Formats, limits and decisions: `docs/sources.md`.

// Every public item is documented (DEVELOPERS.md); clippy -D warnings keeps it so.
#![warn(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod columns;
mod db_url;
mod delimited;
mod dir;
mod error;
mod files;
mod json;
#[cfg(feature = "mysql")]
mod mysql_source;
#[cfg(feature = "parquet")]
mod parquet_source;
#[cfg(feature = "postgres")]
mod postgres_source;
pub mod query;
mod source_hosts;
mod sqlite;
mod xlsx;

pub use db_url::{canonical_url, quote_backtick, quote_double, redact_url};
pub use error::SourceError;
pub use source_hosts::{BadSourceHost, SourceHostError, SourceHosts};

/// Largest single record (CSV record, JSON value, JSONL line) read before the table is
/// abandoned with [`SourceError::RecordTooLarge`]: keeps memory bounded on files that are
/// not really line-oriented.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Tables above this many estimated rows are not counted with `COUNT(*)`: the server's
/// estimate is used (`pg_class.reltuples`, `information_schema.TABLES.TABLE_ROWS`).
pub const DB_EXACT_COUNT_LIMIT: u64 = 1_000_000;

/// Called with the number of bytes (files) or rows (databases) read since the previous
/// call, so a caller can advance a progress bar.
pub type ProgressFn = Arc<dyn Fn(u64) + Send + Sync>;

/// Text encoding of CSV/TSV files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (a BOM is skipped).
    Utf8,
    /// GB18030, the superset of GBK and GB2312 used by most Chinese government exports.
    Gb18030,
}

impl TextEncoding {
    /// Parses a user-given name: `utf-8`, `utf8`, `gbk`, `gb2312`, `gb18030`, `cp936`.
    pub fn from_name(name: &str) -> Option<TextEncoding> {
        match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "utf8" | "utf8bom" => Some(TextEncoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" | "936" => Some(TextEncoding::Gb18030),
            _ => None,
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Gb18030 => "GB18030/GBK",
        }
    }
}

/// How sources are read. `Default` detects everything.
#[derive(Clone, Default)]
pub struct SourceOptions {
    /// CSV/TSV text encoding; `None` detects it from the first 64 KiB (BOM, valid UTF-8,
    /// else GB18030).
    pub encoding: Option<TextEncoding>,
    /// CSV field delimiter; `None`: tab for `.tsv`/`.tab`, else `,` unless the header line
    /// has no comma but has `;` or `|` or tabs.
    pub delimiter: Option<u8>,
    /// Cap of one record in bytes; `None` means [`DEFAULT_MAX_RECORD_BYTES`].
    pub max_record_bytes: Option<usize>,
    /// Progress callback, see [`ProgressFn`].
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for SourceOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceOptions")
            .field("encoding", &self.encoding)
            .field("delimiter", &self.delimiter)
            .field("max_record_bytes", &self.max_record_bytes)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl SourceOptions {
    pub(crate) fn record_cap(&self) -> usize {
        self.max_record_bytes
            .unwrap_or(DEFAULT_MAX_RECORD_BYTES)
            .max(1024)
    }

    pub(crate) fn report(&self, amount: u64) {
        if amount > 0 {
            if let Some(progress) = &self.progress {
                progress(amount);
            }
        }
    }
}

/// One table of a source: a file, a sheet, or a database table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableRef {
    /// Display name of where the table lives: the file's canonical path for file tables
    /// (also inside a directory), the [`canonical_url`] for server tables.
    pub source: String,
    /// File: file name without extension; workbook with several sheets: `book/Sheet`;
    /// SQLite: table name; PostgreSQL: `schema.table`; MySQL: `database.table`.
    pub name: String,
    /// The file the table is read from (None for server databases).
    pub path: Option<PathBuf>,
    /// Size in bytes for file tables (the progress total), `None` for database tables.
    pub size_bytes: Option<u64>,
    pub(crate) locator: Locator,
}

impl TableRef {
    /// Where a [`query::Select`] finds this table: the schema (PostgreSQL) or database
    /// (MySQL) and the table for a database table; no schema and [`TableRef::name`] for
    /// SQLite tables and files.
    pub fn query_target(&self) -> (Option<String>, String) {
        match &self.locator {
            Locator::DbTable { schema, table, .. } => (Some(schema.clone()), table.clone()),
            Locator::SqliteTable(table) => (None, table.clone()),
            _ => (None, self.name.clone()),
        }
    }

    /// The table's own name without schema, database, book or directory (what a person
    /// calls it).
    pub fn short_name(&self) -> String {
        match &self.locator {
            Locator::DbTable { table, .. } => table.clone(),
            Locator::SqliteTable(table) => table.clone(),
            _ => self
                .name
                .rsplit('/')
                .next()
                .unwrap_or(&self.name)
                .to_string(),
        }
    }
}

/// Where a table lives, in terms the reading code needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Locator {
    Delimited,
    Json,
    JsonLines,
    Parquet,
    XlsxSheet(String),
    SqliteTable(String),
    /// PostgreSQL schema or MySQL database, the table, and the server's row estimate.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    DbTable {
        schema: String,
        table: String,
        estimate: Option<u64>,
    },
}

/// Name and declared type of a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMeta {
    /// Column name (header cell, JSON key, database column).
    pub name: String,
    /// Type as the source declares it (database/Parquet type), `None` for text files.
    pub declared_type: Option<String>,
}

/// Where a reader is: for messages about a row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowPosition {
    /// 1-based number of the last row returned, header not counted (0 before the first).
    pub row: u64,
    /// 1-based line in the file where that row starts, for text files.
    pub line: Option<u64>,
}

impl fmt::Display for RowPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line} (row {})", self.row),
            None => write!(f, "row {}", self.row),
        }
    }
}

/// A stream of rows of one table.
pub trait RowReader {
    /// The columns, known before the first row.
    fn columns(&self) -> &[ColumnMeta];
    /// The next row: one value per column, as text, `None` for NULL (and for cells a
    /// format cannot hold as text, see docs/sources.md). `Some(Err(e))` with
    /// [`SourceError::is_row_error`] means that row was skipped and reading may go on;
    /// any other error ends the table.
    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>>;
    /// [`RowReader::next_row`] into a caller's row, for streaming loops that keep one row
    /// (or one batch of rows) alive and refill it: readers that can reuse the row's
    /// strings (CSV/TSV) do so, saving an allocation per value. On `Some(Ok(()))` `row`
    /// holds exactly the next row; after an error its contents are unspecified. Same
    /// errors as [`RowReader::next_row`].
    fn next_row_into(&mut self, row: &mut Vec<Option<String>>) -> Option<Result<(), SourceError>> {
        self.next_row().map(|next| next.map(|values| *row = values))
    }
    /// Where the reader is, for error messages.
    fn position(&self) -> RowPosition;
    /// Reads past the next row without returning its values, with the same errors as
    /// [`RowReader::next_row`]: what sampling does once every column is full, so readers
    /// can skip building strings.
    fn skip_row(&mut self) -> Option<Result<(), SourceError>> {
        self.next_row().map(|row| row.map(drop))
    }
    /// Exact number of rows when the format stores it (Parquet), letting sampling stop
    /// early. `None` when only reading to the end can tell.
    fn known_row_count(&self) -> Option<u64> {
        None
    }
}

/// Up to `per_column` non-empty values of each column of a table.
#[derive(Clone, Debug)]
pub struct TableSample {
    /// The table sampled.
    pub table: TableRef,
    /// One entry per column, in table order.
    pub columns: Vec<ColumnSample>,
    /// Rows read to take the sample (malformed rows not counted).
    pub rows_scanned: u64,
    /// Number of rows of the table: exact for files (read to the end, or Parquet
    /// metadata) and counted database tables; the server's estimate when
    /// `row_count_estimated`. `None` if unknown.
    pub row_count: Option<u64>,
    /// True when `row_count` is a database estimate (tables above [`DB_EXACT_COUNT_LIMIT`]).
    pub row_count_estimated: bool,
    /// Malformed rows skipped (CSV field count, encoding, JSON syntax).
    pub skipped_rows: u64,
    /// Messages of the first skipped rows (at most 10), each naming file and line.
    pub warnings: Vec<String>,
}

/// The sample of one column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSample {
    /// Column name.
    pub name: String,
    /// Declared type, see [`ColumnMeta::declared_type`].
    pub declared_type: Option<String>,
    /// Up to `per_column` values that are not NULL and not blank, in table order.
    pub values: Vec<String>,
}

/// A file skipped while listing a directory, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file or directory.
    pub path: PathBuf,
    /// Why (unreadable, malformed, a link not followed, nested too deep).
    pub reason: String,
    /// Whether it was skipped because it could not be read (permissions, I/O, a
    /// malformed file) rather than on purpose: such a skip fails the scan (exit 1), since
    /// data that could not be read was not inventoried.
    pub unreadable: bool,
}

/// A readable data source: a file, a directory or a database.
pub trait Source: Send {
    /// The source's one name, [`canonical_source_name`]: canonical absolute path, or
    /// canonical URL without password.
    fn display_name(&self) -> String;
    /// The tables, in a stable order.
    fn tables(&mut self) -> Result<Vec<TableRef>, SourceError>;
    /// Streams the rows of one table.
    fn open_table(&mut self, table: &TableRef) -> Result<Box<dyn RowReader + '_>, SourceError>;
    /// Samples up to `per_column` non-empty values per column. Files are read to the end
    /// for an exact row count; databases push a LIMIT down and count separately.
    fn sample_table(
        &mut self,
        table: &TableRef,
        per_column: usize,
    ) -> Result<TableSample, SourceError> {
        let mut reader = self.open_table(table)?;
        sample_rows(table, reader.as_mut(), per_column, true)
    }
    /// Files skipped by [`Source::tables`] (directories: binary or unreadable files), with
    /// the reason, so the caller can report them.
    fn skipped(&self) -> Vec<Skipped> {
        Vec::new()
    }
}

const MAX_WARNINGS: usize = 10;
/// Malformed rows tolerated before deciding the file is not a table at all (when they
/// also outnumber the good rows).
const BAD_ROW_TOLERANCE: u64 = 1000;

/// Fills in a database table's row count after sampling: the server's estimate when it is
/// at least [`DB_EXACT_COUNT_LIMIT`] (an exact count would scan the whole table), else an
/// exact `COUNT(*)` from `count_exactly`.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn set_db_row_count(
    sample: &mut TableSample,
    estimate: Option<u64>,
    count_exactly: impl FnOnce() -> Result<Option<u64>, SourceError>,
) -> Result<(), SourceError> {
    match estimate {
        Some(estimate) if estimate >= DB_EXACT_COUNT_LIMIT => {
            sample.row_count = Some(estimate);
            sample.row_count_estimated = true;
        }
        _ => sample.row_count = count_exactly()?,
    }
    Ok(())
}

/// Collects a sample from a reader. With `read_to_end`, keeps counting rows after every
/// column is full (exact row count); otherwise stops as soon as all columns are full.
pub fn sample_rows(
    table: &TableRef,
    reader: &mut dyn RowReader,
    per_column: usize,
    read_to_end: bool,
) -> Result<TableSample, SourceError> {
    let mut columns: Vec<ColumnSample> = reader
        .columns()
        .iter()
        .map(|c| ColumnSample {
            name: c.name.clone(),
            declared_type: c.declared_type.clone(),
            values: Vec::new(),
        })
        .collect();
    let known = reader.known_row_count();
    let mut unfilled = if per_column == 0 { 0 } else { columns.len() };
    let mut rows = 0u64;
    let mut bad = 0u64;
    let mut first_bad: Option<SourceError> = None;
    let mut warnings = Vec::new();
    loop {
        let next = if unfilled == 0 {
            reader.skip_row().map(|r| r.map(|()| None))
        } else {
            reader.next_row().map(|r| r.map(Some))
        };
        let Some(next) = next else { break };
        match next {
            Ok(None) => {
                rows += 1;
                if !read_to_end || known.is_some() {
                    break;
                }
            }
            Ok(Some(row)) => {
                rows += 1;
                if unfilled > 0 {
                    for (column, value) in columns.iter_mut().zip(row) {
                        if column.values.len() >= per_column {
                            continue;
                        }
                        if let Some(value) = value {
                            if !value.trim().is_empty() {
                                column.values.push(value);
                                if column.values.len() == per_column {
                                    unfilled -= 1;
                                }
                            }
                        }
                    }
                }
                if unfilled == 0 && (!read_to_end || known.is_some()) {
                    break;
                }
            }
            Err(e) if e.is_row_error() => {
                bad += 1;
                if warnings.len() < MAX_WARNINGS {
                    warnings.push(e.to_string());
                }
                if first_bad.is_none() {
                    first_bad = Some(e);
                }
                if bad > BAD_ROW_TOLERANCE && bad > rows {
                    return Err(SourceError::TooManyBadRows {
                        path: table
                            .path
                            .as_ref()
                            .map_or_else(|| table.source.clone(), |p| p.display().to_string()),
                        bad_rows: bad,
                        first: Box::new(first_bad.take().expect("set above")),
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
    let row_count = match known {
        Some(n) => Some(n),
        None if read_to_end => Some(rows),
        None => None,
    };
    Ok(TableSample {
        table: table.clone(),
        columns,
        rows_scanned: rows,
        row_count,
        row_count_estimated: false,
        skipped_rows: bad,
        warnings,
    })
}

/// Gives unnamed and repeated column names distinct names (`column_3`, `name_2`), so every
/// column can be told apart by name downstream.
pub(crate) fn distinct_names(names: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let base = if name.trim().is_empty() {
            format!("column_{}", i + 1)
        } else {
            name.trim().to_string()
        };
        let mut candidate = base.clone();
        let mut n = 2;
        while !seen.insert(candidate.clone()) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        out.push(candidate);
    }
    out
}

/// The name [`open`] gives the source `spec` ([`Source::display_name`], [`TableRef::source`]),
/// which the inventory keys scans by, so one source always has one name: a file or
/// directory by its canonical absolute path (symbolic links, `.` and `..` resolved; a path
/// that cannot be resolved is made absolute as written), a database by [`canonical_url`]
/// (no password). `sqlite://PATH` names the file. Use it to look up a source a user names.
pub fn canonical_source_name(spec: &str) -> String {
    let lower = spec.get(..16).unwrap_or(spec).to_ascii_lowercase();
    let path = if ["postgres://", "postgresql://", "mysql://", "mariadb://"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
    {
        return canonical_url(spec);
    } else if lower.starts_with("sqlite://") {
        sqlite_url_path(spec)
    } else {
        Path::new(spec)
    };
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .map_or_else(|_| spec.to_string(), |p| p.display().to_string())
}

/// The file of a `sqlite://PATH[?options]` URL.
fn sqlite_url_path(spec: &str) -> &Path {
    let path = &spec["sqlite://".len()..];
    Path::new(path.split('?').next().unwrap_or(path))
}

/// The error for a backend this build left out (a cargo feature of `shuan-source`).
#[cfg(not(all(feature = "postgres", feature = "mysql", feature = "parquet")))]
pub(crate) fn not_built_in(what: &str, feature: &str) -> SourceError {
    SourceError::Unsupported {
        what: format!(
            "{what} (this build of shuan-source has no `{feature}` feature; enable it in Cargo.toml)"
        ),
    }
}

/// Opens a source: a file or directory path, or a `postgres://`, `postgresql://`,
/// `mysql://`, `mariadb://` or `sqlite://` URL. Database sources connect here, so a wrong
/// password fails here with an error that names the server without the password.
pub fn open(spec: &str, options: &SourceOptions) -> Result<Box<dyn Source>, SourceError> {
    let lower = spec.get(..16).unwrap_or(spec).to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(postgres_source::PostgresSource::connect(
            spec,
            options.clone(),
        )?));
        #[cfg(not(feature = "postgres"))]
        return Err(not_built_in("PostgreSQL", "postgres"));
    }
    if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        #[cfg(feature = "mysql")]
        return Ok(Box::new(mysql_source::MysqlSource::connect(
            spec,
            options.clone(),
        )?));
        #[cfg(not(feature = "mysql"))]
        return Err(not_built_in("MySQL/MariaDB", "mysql"));
    }
    if lower.starts_with("sqlite://") {
        return Ok(Box::new(files::FileSource::open_single(
            sqlite_url_path(spec),
            Some(files::FileKind::Sqlite),
            options.clone(),
        )?));
    }
    if let Some((scheme, _)) = spec.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
        {
            return Err(SourceError::Unsupported {
                what: format!(
                    "{}: scheme {scheme}:// is not supported; use a file or directory path, postgres://, mysql:// or sqlite://",
                    redact_url(spec)
                ),
            });
        }
    }
    let path = Path::new(spec);
    let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
    if meta.is_dir() {
        Ok(Box::new(dir::DirSource::open(path, options.clone())?))
    } else {
        Ok(Box::new(files::FileSource::open_single(
            path,
            None,
            options.clone(),
        )?))
    }
}

/// An error with its causes, `outer: inner: os error`, for messages kept as text (a
/// skipped file's reason, a failed table's line): each layer's Display names only its own
/// part, so the causes must be appended.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_distinct() {
        let names = distinct_names(vec![
            "姓名".into(),
            "".into(),
            "姓名".into(),
            " id ".into(),
            "姓名".into(),
        ]);
        assert_eq!(names, ["姓名", "column_2", "姓名_2", "id", "姓名_3"]);
    }

    #[test]
    fn encoding_names() {
        assert_eq!(TextEncoding::from_name("GBK"), Some(TextEncoding::Gb18030));
        assert_eq!(TextEncoding::from_name("utf-8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::from_name("latin1"), None);
    }

    #[test]
    fn unknown_scheme_is_unsupported_and_redacted() {
        let err = open("ftp://u:secret@host/x", &SourceOptions::default())
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("ftp://"), "{msg}");
        assert!(!msg.contains("secret"), "{msg}");
    }
}
