//! PostgreSQL: every table the user can read in every non-system schema of the database
//! named in the URL.
//!
//! Uses the blocking `postgres` crate (a thin wrapper of tokio-postgres with its own
//! private runtime), so the public API stays synchronous without this crate managing a
//! runtime. The session is set read-only (`SET SESSION CHARACTERISTICS AS TRANSACTION READ
//! ONLY`) right after connecting. Values are read as text (`column::text`), which every
//! PostgreSQL type supports. Connections are made without TLS (`sslmode=require` fails).

use std::str::FromStr;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, RowIter};

use crate::db_url::{canonical_url, quote_double};
use crate::sqlite::sample_limit;
use crate::{
    sample_rows, set_db_row_count, ColumnMeta, Locator, RowPosition, RowReader, Source,
    SourceError, SourceOptions, TableRef, TableSample,
};

const PROGRESS_ROWS: u64 = 10_000;

/// The whole story of a driver error: its `Display` alone is often just "db error".
pub(crate) fn pg_message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            text.push_str(&format!("; {detail}"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(&format!(": {inner_text}"));
        }
        cause = inner.source();
    }
    text
}

/// A connected PostgreSQL database.
pub(crate) struct PostgresSource {
    display: String,
    client: Client,
    options: SourceOptions,
}

/// Connects and makes the session read-only: for scanning and for the gateway's queries
/// (`crate::query`).
pub(crate) fn connect_read_only(spec: &str) -> Result<Client, SourceError> {
    let display = canonical_url(spec);
    let db_error = |message: String| SourceError::Database {
        source_name: display.clone(),
        message,
    };
    let mut config = postgres::Config::from_str(spec)
        .map_err(|e| db_error(format!("invalid PostgreSQL URL: {}", pg_message(&e))))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("shuan");
    let mut client = config.connect(NoTls).map_err(|e| {
        db_error(format!(
            "cannot connect: {}; check host, port, user and password",
            pg_message(&e)
        ))
    })?;
    client
        .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        .map_err(|e| {
            db_error(format!(
                "cannot make the session read-only: {}",
                pg_message(&e)
            ))
        })?;
    Ok(client)
}

impl PostgresSource {
    pub(crate) fn connect(spec: &str, options: SourceOptions) -> Result<Self, SourceError> {
        Ok(PostgresSource {
            display: canonical_url(spec),
            client: connect_read_only(spec)?,
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
        let qualified = format!("{}.{}", quote_double(schema), quote_double(table));
        let rows = self
            .client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
                 FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum",
                &[&qualified],
            )
            .map_err(|e| {
                self.db_error(format!(
                    "{qualified}: cannot list columns: {}",
                    pg_message(&e)
                ))
            })?;
        Ok(rows
            .iter()
            .map(|row| ColumnMeta {
                name: row.get(0),
                declared_type: row.get(1),
            })
            .collect())
    }

    fn reader(
        &mut self,
        table: &TableRef,
        limit: Option<u64>,
    ) -> Result<PostgresReader<'_>, SourceError> {
        let (schema, name, _) = self.locate(table)?;
        let columns = self.columns(&schema, &name)?;
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("{}::text", quote_double(&c.name)))
            .collect();
        let mut sql = format!(
            "SELECT {} FROM {}.{}",
            select.join(", "),
            quote_double(&schema),
            quote_double(&name)
        );
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let display = self.display.clone();
        let rows = self
            .client
            .query_raw(sql.as_str(), Vec::<String>::new())
            .map_err(|e| SourceError::Database {
                source_name: display.clone(),
                message: format!("{}: {}", table.name, pg_message(&e)),
            })?;
        Ok(PostgresReader {
            display,
            table: table.name.clone(),
            columns,
            rows,
            row: 0,
            unreported: 0,
            options: self.options.clone(),
            done: false,
        })
    }
}

impl Source for PostgresSource {
    fn display_name(&self) -> String {
        self.display.clone()
    }

    fn tables(&mut self) -> Result<Vec<TableRef>, SourceError> {
        let rows = self
            .client
            .query(
                "SELECT n.nspname::text, c.relname::text, c.reltuples::float8
                 FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p', 'm', 'f')
                   AND NOT c.relispartition
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname NOT LIKE 'pg\\_toast%'
                   AND n.nspname NOT LIKE 'pg\\_temp\\_%'
                   AND has_schema_privilege(n.oid, 'USAGE')
                   AND has_table_privilege(c.oid, 'SELECT')
                 ORDER BY 1, 2",
                &[],
            )
            .map_err(|e| self.db_error(format!("cannot list tables: {}", pg_message(&e))))?;
        Ok(rows
            .iter()
            .map(|row| {
                let schema: String = row.get(0);
                let table: String = row.get(1);
                let reltuples: f64 = row.get(2);
                TableRef {
                    source: self.display.clone(),
                    name: format!("{schema}.{table}"),
                    path: None,
                    size_bytes: None,
                    locator: Locator::DbTable {
                        schema,
                        table,
                        // -1: never analysed; 0 may also mean "not yet analysed".
                        estimate: (reltuples > 0.0).then_some(reltuples as u64),
                    },
                }
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
                "SELECT count(*) FROM {}.{}",
                quote_double(&schema),
                quote_double(&name)
            );
            let count: i64 = self
                .client
                .query_one(sql.as_str(), &[])
                .map_err(|e| {
                    self.db_error(format!(
                        "{}: cannot count rows: {}",
                        table.name,
                        pg_message(&e)
                    ))
                })?
                .get(0);
            Ok(Some(count.max(0) as u64))
        })?;
        Ok(sample)
    }
}

/// Streams rows of one PostgreSQL table.
pub(crate) struct PostgresReader<'a> {
    display: String,
    table: String,
    columns: Vec<ColumnMeta>,
    rows: RowIter<'a>,
    row: u64,
    unreported: u64,
    options: SourceOptions,
    done: bool,
}

impl RowReader for PostgresReader<'_> {
    fn columns(&self) -> &[ColumnMeta] {
        &self.columns
    }

    fn next_row(&mut self) -> Option<Result<Vec<Option<String>>, SourceError>> {
        if self.done {
            return None;
        }
        match self.rows.next() {
            Ok(Some(row)) => {
                self.row += 1;
                self.unreported += 1;
                if self.unreported >= PROGRESS_ROWS {
                    self.options.report(self.unreported);
                    self.unreported = 0;
                }
                let mut values = Vec::with_capacity(self.columns.len());
                for i in 0..self.columns.len() {
                    match row.try_get::<_, Option<String>>(i) {
                        Ok(value) => values.push(value),
                        Err(e) => {
                            self.done = true;
                            return Some(Err(SourceError::Database {
                                source_name: self.display.clone(),
                                message: format!(
                                    "{} row {}: {}",
                                    self.table,
                                    self.row,
                                    pg_message(&e)
                                ),
                            }));
                        }
                    }
                }
                Some(Ok(values))
            }
            Ok(None) => {
                self.done = true;
                self.options.report(self.unreported);
                self.unreported = 0;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(SourceError::Database {
                    source_name: self.display.clone(),
                    message: format!("{} after row {}: {}", self.table, self.row, pg_message(&e)),
                }))
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
    #[cfg_attr(
        not(shuan_test_postgres),
        ignore = "needs SHUAN_TEST_POSTGRES (see README)"
    )]
    fn session_is_read_only() {
        let url = std::env::var("SHUAN_TEST_POSTGRES")
            .expect("SHUAN_TEST_POSTGRES was set when this test was built; set it again");
        let mut source = PostgresSource::connect(&url, SourceOptions::default())
            .expect("SHUAN_TEST_POSTGRES is set but the server is unreachable");
        let probe = format!("shuan_source_ro_probe_{}", std::process::id());
        let result = source
            .client
            .batch_execute(&format!("CREATE TABLE public.{probe} (x int)"));
        if result.is_ok() {
            let _ = source.client.batch_execute(&format!(
                "BEGIN READ WRITE; DROP TABLE public.{probe}; COMMIT"
            ));
            panic!("a write succeeded through the read-only session");
        }
        let message = pg_message(&result.unwrap_err());
        assert!(message.contains("read-only"), "{message}");
    }
}
