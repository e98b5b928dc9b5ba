//! MySQL / MariaDB: DDL commits implicitly there, so rows go into a scratch table that
//! is renamed into place at the end (`RENAME TABLE` is atomic, also when it swaps an
//! existing table out). The scratch table is dropped if the sink is dropped unfinished.
//! Rows are sent as multi-row prepared `INSERT`s inside one transaction.

use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};

use shuan_source::quote_backtick;

use crate::{check_ident, split_name, SinkError, Target};

/// MySQL's identifier limit in characters.
const MAX_IDENT_CHARS: usize = 64;
/// Placeholders per statement stay well under the protocol's 65,535.
const MAX_PARAMS: usize = 60_000;
/// Rows per INSERT at most.
const MAX_BATCH_ROWS: usize = 1000;

pub(crate) struct MySink {
    conn: Conn,
    db: String,
    table: String,
    scratch: String,
    /// `db`.`table` and `db`.`scratch`, quoted.
    final_name: String,
    scratch_name: String,
    replace: bool,
    width: usize,
    batch_rows: usize,
    pending: Vec<Value>,
    finished: bool,
}

fn check(t: &Target, what: &str, name: &str) -> Result<(), SinkError> {
    // The limit is in characters; check_ident counts bytes, so give it the byte budget
    // only after the character count is known to fit.
    if name.chars().count() > MAX_IDENT_CHARS {
        return Err(t.invalid(format!(
            "{what} name {name} has more than {MAX_IDENT_CHARS} characters, MySQL's limit"
        )));
    }
    check_ident(t, what, name, usize::MAX)
}

impl MySink {
    pub(crate) fn create(
        url: &str,
        t: &Target,
        columns: &[String],
        replace: bool,
    ) -> Result<MySink, SinkError> {
        let (schema, table) = split_name(&t.table);
        if let Some(s) = schema {
            check(t, "database", s)?;
        }
        check(t, "table", table)?;
        for c in columns {
            check(t, "column", c)?;
        }
        let url = if url.to_ascii_lowercase().starts_with("mariadb://") {
            format!("mysql://{}", &url["mariadb://".len()..])
        } else {
            url.to_string()
        };
        let opts =
            Opts::from_url(&url).map_err(|e| t.invalid(format!("invalid MySQL URL: {e}")))?;
        let builder = OptsBuilder::from_opts(opts)
            .tcp_connect_timeout(Some(Duration::from_secs(10)))
            .init(vec!["SET NAMES utf8mb4"]);
        let mut conn = Conn::new(builder).map_err(|e| SinkError::Connect {
            target: t.url.clone(),
            message: e.to_string(),
        })?;
        let db: Option<String> = match schema {
            Some(s) => Some(s.to_string()),
            None => conn
                .query_first::<Option<String>, _>("SELECT DATABASE()")
                .map_err(|e| t.db(e))?
                .flatten(),
        };
        let Some(db) = db else {
            return Err(t.invalid(
                "no database chosen: put one in the URL (mysql://user@host/DB) or name the table DB.TABLE",
            ));
        };
        let exists: u64 = conn
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                (&db, table),
            )
            .map_err(|e| t.db(e))?
            .unwrap_or(0);
        if exists > 0 && !replace {
            return Err(SinkError::TableExists {
                target: t.url.clone(),
                table: t.table.clone(),
            });
        }
        // The scratch name must fit the limit too: keep a prefix of the table name.
        let suffix = crate::scratch_suffix();
        let keep = MAX_IDENT_CHARS - suffix.chars().count() - "_old".len();
        let scratch: String = table.chars().take(keep).collect::<String>() + &suffix;
        let final_name = format!("{}.{}", quote_backtick(&db), quote_backtick(table));
        let scratch_name = format!("{}.{}", quote_backtick(&db), quote_backtick(&scratch));
        let cols: Vec<String> = columns
            .iter()
            .map(|c| format!("{} LONGTEXT NULL", quote_backtick(c)))
            .collect();
        conn.query_drop(format!("DROP TABLE IF EXISTS {scratch_name}"))
            .map_err(|e| t.db(e))?;
        conn.query_drop(format!(
            "CREATE TABLE {scratch_name} ({}) DEFAULT CHARSET = utf8mb4",
            cols.join(", ")
        ))
        .map_err(|e| t.db(format!("cannot create the table: {e}")))?;
        let mut sink = MySink {
            conn,
            db,
            table: table.to_string(),
            scratch,
            final_name,
            scratch_name,
            replace,
            width: columns.len(),
            batch_rows: (MAX_PARAMS / columns.len()).clamp(1, MAX_BATCH_ROWS),
            pending: Vec::new(),
            finished: false,
        };
        sink.conn
            .query_drop("START TRANSACTION")
            .map_err(|e| t.db(e))?;
        Ok(sink)
    }

    pub(crate) fn push_row<'a, I>(
        &mut self,
        row: I,
        t: &Target,
        _row_no: u64,
    ) -> Result<usize, SinkError>
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let before = self.pending.len();
        for v in row {
            self.pending.push(match v {
                None => Value::NULL,
                Some(s) => Value::Bytes(s.as_bytes().to_vec()),
            });
        }
        let n = self.pending.len() - before;
        if n != self.width {
            self.pending.truncate(before);
            return Ok(n);
        }
        if self.pending.len() >= self.batch_rows * self.width {
            self.flush(t)?;
        }
        Ok(n)
    }

    fn flush(&mut self, t: &Target) -> Result<(), SinkError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = self.pending.len() / self.width;
        let one = format!("({})", vec!["?"; self.width].join(","));
        let sql = format!(
            "INSERT INTO {} VALUES {}",
            self.scratch_name,
            vec![one.as_str(); rows].join(",")
        );
        let params = std::mem::take(&mut self.pending);
        self.conn.exec_drop(sql, params).map_err(|e| t.db(e))
    }

    pub(crate) fn finish(mut self, t: &Target) -> Result<(), SinkError> {
        self.flush(t)?;
        self.conn.query_drop("COMMIT").map_err(|e| t.db(e))?;
        let rename = if self.replace {
            let exists: u64 = self
                .conn
                .exec_first(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                    (&self.db, &self.table),
                )
                .map_err(|e| t.db(e))?
                .unwrap_or(0);
            (exists > 0).then(|| {
                let old = format!(
                    "{}.{}",
                    quote_backtick(&self.db),
                    quote_backtick(&format!("{}_old", self.scratch))
                );
                (
                    format!(
                        "RENAME TABLE {final_} TO {old}, {scratch} TO {final_}",
                        final_ = self.final_name,
                        scratch = self.scratch_name
                    ),
                    Some(old),
                )
            })
        } else {
            None
        };
        let (sql, old) = rename.unwrap_or_else(|| {
            (
                format!("RENAME TABLE {} TO {}", self.scratch_name, self.final_name),
                None,
            )
        });
        self.conn
            .query_drop(sql)
            .map_err(|e| t.db(format!("cannot move the new table into place: {e}")))?;
        self.finished = true;
        if let Some(old) = old {
            self.conn
                .query_drop(format!("DROP TABLE {old}"))
                .map_err(|e| {
                    t.db(format!(
                        "the new table is in place, but the replaced one remains as {old}: {e}"
                    ))
                })?;
        }
        Ok(())
    }
}

impl Drop for MySink {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.conn.query_drop("ROLLBACK");
            let _ = self
                .conn
                .query_drop(format!("DROP TABLE IF EXISTS {}", self.scratch_name));
        }
    }
}
