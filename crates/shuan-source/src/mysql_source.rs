//! MySQL/MariaDB. With a database in the URL (`mysql://u@h/db`) only that database's
//! tables are listed; without one (`mysql://u@h/`), every table of every database the user
//! can see except the system databases (`information_schema`, `mysql`,
//! `performance_schema`, `sys`).
//!
//! Uses the blocking `mysql` crate (no async runtime needed; pure-Rust compression backend,
//! no TLS feature). The session is set read-only (`SET SESSION TRANSACTION READ ONLY`)
//! right after connecting, and to `utf8mb4` so Chinese text arrives intact. Rows are read
//! with the text protocol, one at a time off the socket.

use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, QueryResult, Text, UrlError, Value};

use crate::db_url::{canonical_url, quote_backtick};
use crate::sqlite::sample_limit;
use crate::{
    sample_rows, set_db_row_count, ColumnMeta, Locator, RowPosition, RowReader, Source,
    SourceError, SourceOptions, TableRef, TableSample,
};

const PROGRESS_ROWS: u64 = 10_000;
const SYSTEM_DATABASES: [&str; 4] = ["information_schema", "mysql", "performance_schema", "sys"];

/// A connected MySQL/MariaDB server.
pub(crate) struct MysqlSource {
    display: String,
    database: Option<String>,
    conn: Conn,
    options: SourceOptions,
}

fn url_error(e: &UrlError) -> String {
    match e {
        // The value could be a secret; name only the parameter.
        UrlError::InvalidValue(parameter, _) => {
            format!("invalid value for URL parameter {parameter}")
        }
        other => other.to_string(),
    }
}

/// Connects with the session read-only and in `utf8mb4`: for scanning and for the
/// gateway's queries (`crate::query`). Answers the database named in the URL too.
pub(crate) fn connect_with_database(spec: &str) -> Result<(Conn, Option<String>), SourceError> {
    let display = canonical_url(spec);
    let db_error = |message: String| SourceError::Database {
        source_name: display.clone(),
        message,
    };
    let url = match spec.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
            format!("mysql://{rest}")
        }
        _ => spec.to_string(),
    };
    let opts = Opts::from_url(&url)
        .map_err(|e| db_error(format!("invalid MySQL URL: {}", url_error(&e))))?;
    let database = opts
        .get_db_name()
        .filter(|db| !db.is_empty())
        .map(str::to_string);
    let builder = OptsBuilder::from_opts(opts)
        .tcp_connect_timeout(Some(Duration::from_secs(10)))
        .init(vec![
            "SET NAMES utf8mb4",
            "SET SESSION TRANSACTION READ ONLY",
        ]);
    let conn = Conn::new(builder).map_err(|e| {
        db_error(format!(
            "cannot connect: {e}; check host, port, user and password"
        ))
    })?;
    Ok((conn, database))
}

/// [`connect_with_database`] without the database name.
pub(crate) fn connect_read_only(spec: &str) -> Result<Conn, SourceError> {
    connect_with_database(spec).map(|(conn, _)| conn)
}

impl MysqlSource {
    pub(crate) fn connect(spec: &str, options: SourceOptions) -> Result<Self, SourceError> {
        let (conn, database) = connect_with_database(spec)?;
        Ok(MysqlSource {
            display: canonical_url(spec),
            database,
            conn,
            options,
        })
    }

    fn db_error(&self, e: impl std::fmt::Display) -> SourceError {
        SourceError::Database {
            source_name: self.display.clone(),
            message: e.to_string(),
        }
    }

    fn locate(&self, table: &TableRef) -> Result<(String, String, Option<u64>), SourceError> {
        match &table.locator {
            Locator::DbTable {
                schema,
                table: name,
                estimate,
            } if table.source == self.display => Ok((schema.clone(), name.clone(), *estimate)),
            _ => Err(SourceError::NoSuchTable {
                source_name: self.display.clone(),
                table: table.name.clone(),
            }),
        }
    }

    fn columns(&mut self, schema: &str, table: &str) -> Result<Vec<ColumnMeta>, SourceError> {
        let rows: Vec<(String, String)> = self
            .conn
            .exec(
                "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (schema, table),
            )
            .map_err(|e| self.db_error(format!("{schema}.{table}: cannot list columns: {e}")))?;
        Ok(rows
            .into_iter()
            .map(|(name, declared)| ColumnMeta {
                name,
                declared_type: Some(declared),
            })
            .collect())
    }

    fn reader(
        &mut self,
        table: &TableRef,
        limit: Option<u64>,
    ) -> Result<MysqlReader<'_>, SourceError> {
        let (schema, name, _) = self.locate(table)?;
        let columns = self.columns(&schema, &name)?;
        let select: Vec<String> = columns.iter().map(|c| quote_backtick(&c.name)).collect();
        let mut sql = format!(
            "SELECT {} FROM {}.{}",
            if select.is_empty() {
                "1".to_string()
            } else {
                select.join(", ")
            },
            quote_backtick(&schema),
            quote_backtick(&name)
        );
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let display = self.display.clone();
        let options = self.options.clone();
        let rows = self
            .conn
            .query_iter(sql)
            .map_err(|e| SourceError::Database {
                source_name: display.clone(),
                message: format!("{}: {e}", table.name),
            })?;
        Ok(MysqlReader {
            display,
            table: table.name.clone(),
            columns,
            rows,
            row: 0,
            unreported: 0,
            options,
            done: false,
        })
    }
}

impl Source for MysqlSource {
    fn display_name(&self) -> String {
        self.display.clone()
    }

    fn tables(&mut self) -> Result<Vec<TableRef>, SourceError> {
        let mut sql = format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES
             WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ({})",
            SYSTEM_DATABASES
                .iter()
                .map(|d| format!("'{d}'"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut params: Vec<String> = Vec::new();
        if let Some(db) = &self.database {
            sql.push_str(" AND TABLE_SCHEMA = ?");
            params.push(db.clone());
        }
        sql.push_str(" ORDER BY TABLE_SCHEMA, TABLE_NAME");
        let rows: Vec<(String, String, Option<u64>)> = self
            .conn
            .exec(sql, params)
            .map_err(|e| self.db_error(format!("cannot list tables: {e}")))?;
        Ok(rows
            .into_iter()
            .map(|(schema, table, estimate)| TableRef {
                source: self.display.clone(),
                name: format!("{schema}.{table}"),
                path: None,
                size_bytes: None,
                locator: Locator::DbTable {
                    schema,
                    table,
                    estimate,
                },
            })
            .collect())
    }

    fn open_table(&mut self, table: &TableRef) -> Result<Box<dyn RowReader + '_>, SourceError> {
        Ok(Box::new(self.reader(table, None)?))
    }

    fn sample_table(
        &mut self,
        table: &TableRef,
        per_column: usize,
    ) -> Result<TableSample, SourceError> {
        let (schema, name, estimate) = self.locate(table)?;
        let mut sample = {
            let mut reader = self.reader(table, Some(sample_limit(per_column)))?;
            sample_rows(table, &mut reader, per_column, false)?
        };
        set_db_row_count(&mut sample, estimate, || {
            let sql = format!(
                "SELECT COUNT(*) FROM {}.{}",
                quote_backtick(&schema),
                quote_backtick(&name)
            );
            self.conn
                .query_first(sql)
                .map_err(|e| self.db_error(format!("{}: cannot count rows: {e}", table.name)))
        })?;
        Ok(sample)
    }
}

/// Streams rows of one MySQL table. Dropping it early reads (and discards) the rest of
/// the result: the protocol has no cancel, which is why sampling pushes a LIMIT down.
pub(crate) struct MysqlReader<'a> {
    display: String,
    table: String,
    columns: Vec<ColumnMeta>,
    rows: QueryResult<'a, 'a, 'a, Text>,
    row: u64,
    unreported: u64,
    options: SourceOptions,
    done: bool,
}

pub(crate) fn value_text(value: Value) -> Option<String> {
    match value {
        Value::NULL => None,
        // Binary columns are not text to classify.
        Value::Bytes(bytes) => String::from_utf8(bytes).ok(),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

impl RowReader for MysqlReader<'_> {
    fn columns(&self) -> &[ColumnMeta] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>> {
        if self.done {
            return None;
        }
        match self.rows.next() {
            Some(Ok(row)) => {
                self.row += 1;
                self.unreported += 1;
                if self.unreported >= PROGRESS_ROWS {
                    self.options.report(self.unreported);
                    self.unreported = 0;
                }
                let mut values: Vec<Option<String>> =
                    row.unwrap().into_iter().map(value_text).collect();
                values.resize(self.columns.len(), None);
                Some(Ok(values))
            }
            Some(Err(e)) => {
                self.done = true;
                Some(Err(SourceError::Database {
                    source_name: self.display.clone(),
                    message: format!("{} after row {}: {e}", self.table, self.row),
                }))
            }
            None => {
                self.done = true;
                self.options.report(self.unreported);
                self.unreported = 0;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The session shuan reads through refuses writes.
    #[test]
    #[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
    fn session_is_read_only() {
        let url = std::env::var("SHUAN_TEST_MYSQL")
            .expect("SHUAN_TEST_MYSQL was set when this test was built; set it again");
        let mut source = MysqlSource::connect(&url, SourceOptions::default())
            .expect("SHUAN_TEST_MYSQL is set but the server is unreachable");
        let probe = format!("shuan_source_ro_probe_{}", std::process::id());
        let result = source
            .conn
            .query_drop(format!("CREATE TABLE {probe} (x INT)"));
        if result.is_ok() {
            let _ = source.conn.query_drop(format!("DROP TABLE {probe}"));
            panic!("a write succeeded through the read-only session");
        }
        let message = result.unwrap_err().to_string();
        assert!(message.contains("READ ONLY"), "{message}");
    }
}
