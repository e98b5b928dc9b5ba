//! Writing rows into a **new table** of a PostgreSQL or MySQL/MariaDB database — the one
//! place where shuan writes to a department's database server, used to load masked
//! extracts (脱敏数据) into a test or sharing database.
//!
//! All or nothing: a table appears under its name only once every row is in. PostgreSQL
//! creates and fills the table inside one transaction (its DDL is transactional); MySQL,
//! whose DDL commits implicitly, fills a temporary table and renames it into place at the
//! end (`RENAME TABLE` swaps atomically). A sink dropped without [`TableSink::finish`] —
//! an error, a panic, Ctrl-C — leaves no table behind. An existing table is never touched
//! unless the caller asks to replace it, and then it is swapped out only at the end.
//!
//! This crate must not read data for scanning (that is `shuan-source`, read-only), must
//! not alter or drop any table other than the one it was asked to create or replace, and
//! never prints passwords: every message names the target by its password-free URL.
//! Columns are created as text: masked values are strings (generalized dates, ranges,
//! tags), whatever the source column's type was.

use std::fmt;

mod mysql_sink;
mod pg_sink;

pub use shuan_source::redact_url;

/// Which server a destination URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `mysql://` or `mariadb://`.
    Mysql,
}

impl DbKind {
    /// The kind of a destination URL, or `None` if it is not a database URL.
    pub fn of_url(url: &str) -> Option<DbKind> {
        let lower = url.get(..12).unwrap_or(url).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql:/") {
            Some(DbKind::Postgres)
        } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            Some(DbKind::Mysql)
        } else {
            None
        }
    }
}

/// What went wrong, naming the target by its password-free URL and the table.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The URL is not usable.
    #[error("{target}: {reason}")]
    Invalid {
        /// Password-free URL.
        target: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Could not connect.
    #[error("{target}: cannot connect: {message}; check host, port, user and password")]
    Connect {
        /// Password-free URL.
        target: String,
        /// The server's or driver's message.
        message: String,
    },
    /// The table exists and replacing it was not asked for.
    #[error("{target}: table {table} already exists; choose another name, drop it yourself, or replace it (--force)")]
    TableExists {
        /// Password-free URL.
        target: String,
        /// Table name.
        table: String,
    },
    /// The server refused a statement.
    #[error("{target}: table {table}: {message}")]
    Database {
        /// Password-free URL.
        target: String,
        /// Table name.
        table: String,
        /// The server's message.
        message: String,
    },
    /// A row does not fit the table.
    #[error("{target}: table {table}: row {row}: {reason}")]
    BadRow {
        /// Password-free URL.
        target: String,
        /// Table name.
        table: String,
        /// 1-based row number among the rows written.
        row: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Where a sink writes, for messages.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) table: String,
}

impl Target {
    pub(crate) fn db(&self, e: impl fmt::Display) -> SinkError {
        SinkError::Database {
            target: self.url.clone(),
            table: self.table.clone(),
            message: e.to_string(),
        }
    }
    pub(crate) fn bad_row(&self, row: u64, reason: impl Into<String>) -> SinkError {
        SinkError::BadRow {
            target: self.url.clone(),
            table: self.table.clone(),
            row,
            reason: reason.into(),
        }
    }
    pub(crate) fn invalid(&self, reason: impl Into<String>) -> SinkError {
        SinkError::Invalid {
            target: self.url.clone(),
            reason: reason.into(),
        }
    }
}

/// A new table being filled; see the crate documentation for the all-or-nothing rule.
pub struct TableSink {
    inner: Inner,
    target: Target,
    width: usize,
    rows: u64,
}

enum Inner {
    Pg(pg_sink::PgSink),
    My(mysql_sink::MySink),
}

/// A suffix for scratch table names, unique per sink: two sinks of one process (or of two
/// processes) aiming at the same table never share a scratch table.
pub(crate) fn scratch_suffix() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("__shuan_{}_{n}", std::process::id())
}

/// Splits `schema.table` (a `.` in the name) into its parts.
pub(crate) fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((s, t)) if !s.is_empty() && !t.is_empty() => (Some(s), t),
        _ => (None, name),
    }
}

/// Checks a table or column name against the server's identifier rules, so that a name
/// is never silently truncated into a collision.
pub(crate) fn check_ident(
    t: &Target,
    what: &str,
    name: &str,
    max_len: usize,
) -> Result<(), SinkError> {
    if name.is_empty() {
        return Err(t.invalid(format!("{what} name is empty")));
    }
    if name.contains('\0') {
        return Err(t.invalid(format!("{what} name {name:?} contains a NUL character")));
    }
    if name.len() > max_len {
        return Err(t.invalid(format!(
            "{what} name {name} is {} bytes long; the server allows {max_len} and would cut it",
            name.len()
        )));
    }
    Ok(())
}

impl TableSink {
    /// Connects to `url` and starts a new table `table` (`schema.table` allowed) with one
    /// text column per entry of `columns`. With `replace`, an existing table of that name
    /// is replaced when [`finish`](Self::finish) succeeds; without it, an existing table
    /// is an error before anything is written.
    pub fn create(
        url: &str,
        table: &str,
        columns: &[String],
        replace: bool,
    ) -> Result<TableSink, SinkError> {
        let target = Target {
            url: redact_url(url),
            table: table.to_string(),
        };
        if columns.is_empty() {
            return Err(target.invalid("a table needs at least one column"));
        }
        let inner = match DbKind::of_url(url) {
            Some(DbKind::Postgres) => Inner::Pg(pg_sink::PgSink::create(url, &target, columns, replace)?),
            Some(DbKind::Mysql) => Inner::My(mysql_sink::MySink::create(url, &target, columns, replace)?),
            None => {
                return Err(target.invalid(
                    "not a database URL; use postgres://user@host[:port]/db or mysql://user@host[:port]/db",
                ))
            }
        };
        Ok(TableSink {
            inner,
            target,
            width: columns.len(),
            rows: 0,
        })
    }

    /// Adds one row; `None` is SQL NULL. The row must have one value per column.
    pub fn write_row<'a, I>(&mut self, row: I) -> Result<(), SinkError>
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        self.rows += 1;
        let n = match &mut self.inner {
            Inner::Pg(s) => s.push_row(row, &self.target, self.rows)?,
            Inner::My(s) => s.push_row(row, &self.target, self.rows)?,
        };
        if n != self.width {
            return Err(self
                .target
                .bad_row(self.rows, format!("{n} values for {} columns", self.width)));
        }
        Ok(())
    }

    /// Writes what is buffered and makes the table visible under its name. Returns the
    /// number of rows.
    pub fn finish(self) -> Result<u64, SinkError> {
        match self.inner {
            Inner::Pg(s) => s.finish(&self.target)?,
            Inner::My(s) => s.finish(&self.target)?,
        }
        Ok(self.rows)
    }

    /// `password-free-url table`, for messages.
    pub fn describe(&self) -> String {
        format!("{} table {}", self.target.url, self.target.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_urls() {
        assert_eq!(DbKind::of_url("postgres://u@h/db"), Some(DbKind::Postgres));
        assert_eq!(
            DbKind::of_url("PostgreSQL://u@h/db"),
            Some(DbKind::Postgres)
        );
        assert_eq!(DbKind::of_url("mysql://root@h/db"), Some(DbKind::Mysql));
        assert_eq!(DbKind::of_url("mariadb://root@h/db"), Some(DbKind::Mysql));
        assert_eq!(DbKind::of_url("out.csv"), None);
        assert_eq!(DbKind::of_url("sqlite://x.db"), None);
        assert_eq!(DbKind::of_url("pg"), None);
    }

    #[test]
    fn names_split_at_the_first_dot() {
        assert_eq!(split_name("public.t"), (Some("public"), "t"));
        assert_eq!(split_name("t"), (None, "t"));
        assert_eq!(split_name(".t"), (None, ".t"));
    }

    #[test]
    fn unusable_destinations_are_refused_without_connecting() {
        let e = TableSink::create("out.csv", "t", &["a".into()], false)
            .err()
            .unwrap();
        assert!(e.to_string().contains("not a database URL"), "{e}");
        let e = TableSink::create("postgres://u:secret@127.0.0.1:1/db", "t", &[], false)
            .err()
            .unwrap();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.to_string().contains("at least one column"), "{e}");
    }
}
