//! SQLite files, opened read-only (`SQLITE_OPEN_READ_ONLY` plus `PRAGMA query_only`).
//!
//! Rows are produced by a worker thread that owns its own connection and hands rows over
//! a small bounded channel: rusqlite's row cursor borrows its statement, which cannot live
//! in the same struct, and the channel bound keeps memory flat.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::db_url::quote_double;
use crate::{
    sample_rows, ColumnMeta, RowPosition, RowReader, SourceError, SourceOptions, TableRef,
    TableSample,
};

const CHANNEL_ROWS: usize = 256;
const PROGRESS_ROWS: u64 = 10_000;

fn sqlite_error(path: &Path, e: impl std::fmt::Display) -> SourceError {
    SourceError::Sqlite {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Opens the file read-only; a missing file is an error (never created).
pub(crate) fn connect(path: &Path) -> Result<Connection, SourceError> {
    std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_error(path, e))?;
    conn.pragma_update(None, "query_only", true)
        .map_err(|e| sqlite_error(path, e))?;
    // Fails here, not later, when the file is not a database.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|e| sqlite_error(path, format!("{e}; is this an SQLite database file?")))?;
    Ok(conn)
}

/// User tables (not views, not SQLite's internal tables), by name.
pub(crate) fn list_tables(path: &Path) -> Result<Vec<String>, SourceError> {
    let conn = connect(path)?;
    let mut stmt = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .map_err(|e| sqlite_error(path, e))?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(|e| sqlite_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlite_error(path, e))?;
    Ok(names)
}

pub(crate) fn value_text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        // Binary content is not text to classify: reported as no value.
        ValueRef::Blob(b) => std::str::from_utf8(b).ok().map(str::to_owned),
    }
}

type RowMessage = Result<Vec<Option<String>>, SourceError>;

/// Streams one table (or its first `limit` rows).
pub(crate) struct SqliteReader {
    columns: Vec<ColumnMeta>,
    rows: Receiver<RowMessage>,
    worker: Option<JoinHandle<()>>,
    row: u64,
    unreported: u64,
    options: SourceOptions,
}

impl SqliteReader {
    pub(crate) fn open(
        path: &Path,
        table: &str,
        limit: Option<u64>,
        options: SourceOptions,
    ) -> Result<SqliteReader, SourceError> {
        let conn = connect(path)?;
        let mut sql = format!("SELECT * FROM {}", quote_double(table));
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let columns = {
            let stmt = conn.prepare(&sql).map_err(|e| sqlite_error(path, e))?;
            stmt.columns()
                .iter()
                .map(|c| ColumnMeta {
                    name: c.name().to_string(),
                    declared_type: c.decl_type().map(str::to_string),
                })
                .collect::<Vec<_>>()
        };
        let (sender, rows) = sync_channel::<RowMessage>(CHANNEL_ROWS);
        let worker_path = path.to_path_buf();
        let worker = std::thread::Builder::new()
            .name("shuan-sqlite-reader".into())
            .spawn(move || {
                let run = || -> Result<(), rusqlite::Error> {
                    let mut stmt = conn.prepare(&sql)?;
                    let width = stmt.column_count();
                    let mut cursor = stmt.query([])?;
                    while let Some(row) = cursor.next()? {
                        let mut values = Vec::with_capacity(width);
                        for i in 0..width {
                            values.push(value_text(row.get_ref(i)?));
                        }
                        if sender.send(Ok(values)).is_err() {
                            // The reader was dropped: stop reading.
                            return Ok(());
                        }
                    }
                    Ok(())
                };
                if let Err(e) = run() {
                    let _ = sender.send(Err(sqlite_error(&worker_path, e)));
                }
            })
            .map_err(|e| SourceError::io(path, e))?;
        Ok(SqliteReader {
            columns,
            rows,
            worker: Some(worker),
            row: 0,
            unreported: 0,
            options,
        })
    }
}

impl RowReader for SqliteReader {
    fn columns(&self) -> &[ColumnMeta] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>> {
        match self.rows.recv() {
            Ok(Ok(values)) => {
                self.row += 1;
                self.unreported += 1;
                if self.unreported >= PROGRESS_ROWS {
                    self.options.report(self.unreported);
                    self.unreported = 0;
                }
                Some(Ok(values))
            }
            Ok(Err(e)) => Some(Err(e)),
            Err(_) => {
                self.options.report(self.unreported);
                self.unreported = 0;
                if let Some(worker) = self.worker.take() {
                    let _ = worker.join();
                }
                None
            }
        }
    }

    fn position(&self) -> RowPosition {
        RowPosition {
            row: self.row,
            line: None,
        }
    }
}

/// Samples like a database: the first rows (a few times `per_column`), and `COUNT(*)`.
pub(crate) fn sample(
    path: &Path,
    table_name: &str,
    table: &TableRef,
    per_column: usize,
    options: &SourceOptions,
) -> Result<TableSample, SourceError> {
    let limit = sample_limit(per_column);
    let mut reader = SqliteReader::open(path, table_name, Some(limit), options.clone())?;
    let mut sample = sample_rows(table, &mut reader, per_column, false)?;
    let conn = connect(path)?;
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {}", quote_double(table_name)),
            [],
            |row| row.get(0),
        )
        .map_err(|e| sqlite_error(path, e))?;
    sample.row_count = Some(count.max(0) as u64);
    Ok(sample)
}

/// Rows read from a database table to sample `per_column` non-empty values per column:
/// a few times more than needed so sparse columns still get values, bounded.
pub(crate) fn sample_limit(per_column: usize) -> u64 {
    (per_column as u64).saturating_mul(5).clamp(100, 1_000_000)
}
