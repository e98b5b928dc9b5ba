//! PostgreSQL: `CREATE TABLE` of a scratch table, `COPY … FROM STDIN` into it and the
//! rename into place, all inside one transaction, so the table exists for other sessions
//! only after `COMMIT`. Rows are encoded in COPY's text
//! format into a buffer and sent in chunks (one `COPY` per chunk, same transaction).

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use postgres::{Client, NoTls};

use shuan_source::quote_double;

use crate::{check_ident, split_name, SinkError, Target};

/// PostgreSQL's identifier limit (NAMEDATALEN - 1); longer names are silently cut.
const MAX_IDENT: usize = 63;
/// Send buffered rows once this much COPY text has accumulated.
const FLUSH_BYTES: usize = 1 << 20;

pub(crate) struct PgSink {
    client: Client,
    copy_sql: String,
    /// Drops the replaced table (if asked) and renames the scratch table into place.
    finalize_sql: String,
    buf: Vec<u8>,
}

fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// Appends `v` escaped for COPY's text format.
fn escape_into(buf: &mut Vec<u8>, v: &str) {
    let bytes = v.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(esc);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

impl PgSink {
    pub(crate) fn create(
        url: &str,
        t: &Target,
        columns: &[String],
        replace: bool,
    ) -> Result<PgSink, SinkError> {
        let (schema, table) = split_name(&t.table);
        if let Some(s) = schema {
            check_ident(t, "schema", s, MAX_IDENT)?;
        }
        check_ident(t, "table", table, MAX_IDENT)?;
        for c in columns {
            check_ident(t, "column", c, MAX_IDENT)?;
        }
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| t.invalid(format!("invalid PostgreSQL URL: {}", pg_message(&e))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("shuan");
        let mut client = config.connect(NoTls).map_err(|e| SinkError::Connect {
            target: t.url.clone(),
            message: pg_message(&e),
        })?;
        let qualified = match schema {
            Some(s) => format!("{}.{}", quote_double(s), quote_double(table)),
            None => quote_double(table),
        };
        client
            .batch_execute("BEGIN")
            .map_err(|e| t.db(pg_message(&e)))?;
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&qualified])
            .map_err(|e| t.db(pg_message(&e)))?
            .get(0);
        if exists && !replace {
            return Err(SinkError::TableExists {
                target: t.url.clone(),
                table: t.table.clone(),
            });
        }
        // Rows go into a scratch table, renamed at the end: an existing table stays
        // readable by other sessions (no lock on it) until the final swap, and nobody
        // ever sees the scratch table because the whole load is one transaction.
        let suffix = crate::scratch_suffix();
        let mut scratch = table.to_string();
        while scratch.len() + suffix.len() > MAX_IDENT {
            scratch.pop();
        }
        scratch.push_str(&suffix);
        let scratch_qualified = match schema {
            Some(s) => format!("{}.{}", quote_double(s), quote_double(&scratch)),
            None => quote_double(&scratch),
        };
        let cols: Vec<String> = columns
            .iter()
            .map(|c| format!("{} text", quote_double(c)))
            .collect();
        client
            .batch_execute(&format!(
                "CREATE TABLE {scratch_qualified} ({})",
                cols.join(", ")
            ))
            .map_err(|e| t.db(format!("cannot create the table: {}", pg_message(&e))))?;
        Ok(PgSink {
            client,
            copy_sql: format!("COPY {scratch_qualified} FROM STDIN"),
            finalize_sql: format!(
                "{}ALTER TABLE {scratch_qualified} RENAME TO {}",
                if replace {
                    format!("DROP TABLE IF EXISTS {qualified}; ")
                } else {
                    String::new()
                },
                quote_double(table)
            ),
            buf: Vec::with_capacity(FLUSH_BYTES + 4096),
        })
    }

    pub(crate) fn push_row<'a, I>(
        &mut self,
        row: I,
        t: &Target,
        row_no: u64,
    ) -> Result<usize, SinkError>
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let mut n = 0;
        for v in row {
            if n > 0 {
                self.buf.push(b'\t');
            }
            match v {
                None => self.buf.extend_from_slice(b"\\N"),
                Some(s) => {
                    if s.contains('\0') {
                        return Err(t.bad_row(
                            row_no,
                            format!(
                                "column {}: PostgreSQL text cannot hold a NUL character",
                                n + 1
                            ),
                        ));
                    }
                    escape_into(&mut self.buf, s);
                }
            }
            n += 1;
        }
        self.buf.push(b'\n');
        if self.buf.len() >= FLUSH_BYTES {
            self.flush(t)?;
        }
        Ok(n)
    }

    fn flush(&mut self, t: &Target) -> Result<(), SinkError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut w = self
            .client
            .copy_in(&self.copy_sql)
            .map_err(|e| t.db(pg_message(&e)))?;
        w.write_all(&self.buf)
            .map_err(|e| t.db(format!("sending rows: {e}")))?;
        w.finish().map_err(|e| t.db(pg_message(&e)))?;
        self.buf.clear();
        Ok(())
    }

    pub(crate) fn finish(mut self, t: &Target) -> Result<(), SinkError> {
        self.flush(t)?;
        self.client.batch_execute(&self.finalize_sql).map_err(|e| {
            t.db(format!(
                "cannot move the new table into place: {}",
                pg_message(&e)
            ))
        })?;
        self.client.batch_execute("COMMIT").map_err(|e| {
            t.db(format!(
                "commit failed, nothing was written: {}",
                pg_message(&e)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escaping() {
        let mut b = Vec::new();
        escape_into(&mut b, "a\\b\tc\nd\re 中文");
        assert_eq!(b, b"a\\\\b\\tc\\nd\\re \xe4\xb8\xad\xe6\x96\x87");
        let mut b = Vec::new();
        escape_into(&mut b, "");
        assert!(b.is_empty());
    }
}
