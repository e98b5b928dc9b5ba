//! Erasing rows and tables in a registered PostgreSQL or MySQL/MariaDB source — the only
//! code in shuan that writes to a source, and only for an approved destruction.
//!
//! Rows go in one transaction: `DELETE … WHERE` with the filter's values bound, then a
//! count of rows still matching inside the same transaction; anything but zero rolls the
//! whole delete back and is reported, so a destruction is all or nothing. A table is
//! dropped with `DROP TABLE` (without `CASCADE`: a table other objects depend on is
//! refused by the database, not silently taken with them). Identifiers are quoted; they
//! come from the platform's catalogue, values never enter the SQL text. After either, the
//! caller checks on a fresh connection ([`Eraser::count_matching`],
//! [`Eraser::table_exists`]) that the data is gone before certifying it.
//!
//! A file (a job's output, a test copy, temporary data) is overwritten with zeros in
//! place, removed, and its directory synced ([`erase_file`]).

use std::str::FromStr;
use std::time::Duration;

use mysql::prelude::Queryable;
use shuan_source::query::{Predicate, Value};
use shuan_source::{canonical_url, quote_backtick, quote_double};

/// Why erasing failed. Never holds a password: URLs appear in their display form.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// Not a PostgreSQL or MySQL/MariaDB URL.
    #[error("{0}: destruction of rows and tables is supported in PostgreSQL and MySQL/MariaDB sources only")]
    Unsupported(String),
    /// The source cannot be reached.
    #[error("cannot connect to {source_name}: {message}")]
    Connect {
        /// Display form of the source.
        source_name: String,
        /// The client's message.
        message: String,
    },
    /// A statement failed (no such table or column, no privilege, a dependency, …).
    #[error("{source_name}: {message}")]
    Database {
        /// Display form of the source.
        source_name: String,
        /// The database's message.
        message: String,
    },
    /// Rows still matched inside the transaction after the delete: rolled back.
    #[error("{remaining} rows still matched after the delete; it was rolled back and nothing was destroyed")]
    NotGone {
        /// Rows still matching.
        remaining: u64,
    },
}

/// A table as a source names it: `schema.table` (PostgreSQL schema, MySQL database) or a
/// bare table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// Schema or database.
    pub schema: Option<String>,
    /// Table.
    pub table: String,
}

impl TableName {
    /// From the catalogue's locator (`public.people`, `test.people`, `people`).
    pub fn from_locator(locator: &str) -> TableName {
        match locator.split_once('.') {
            Some((s, t)) if !s.is_empty() && !t.is_empty() => TableName {
                schema: Some(s.to_string()),
                table: t.to_string(),
            },
            _ => TableName {
                schema: None,
                table: locator.to_string(),
            },
        }
    }

    fn quoted(&self, quote: fn(&str) -> String) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote(s), quote(&self.table)),
            None => quote(&self.table),
        }
    }
}

/// The WHERE clause over `filter` with placeholders from `placeholder`.
fn where_clause(
    filter: &[Predicate],
    quote: fn(&str) -> String,
    placeholder: impl Fn(usize) -> String,
) -> String {
    let terms: Vec<String> = filter
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // Prefix is not a filter operator of destructions (FilterOp has none).
            let op = match p.op {
                shuan_source::query::Op::Eq => "=",
                shuan_source::query::Op::Ne => "<>",
                shuan_source::query::Op::Lt => "<",
                shuan_source::query::Op::Le => "<=",
                shuan_source::query::Op::Gt => ">",
                shuan_source::query::Op::Ge => ">=",
                shuan_source::query::Op::Prefix => "=",
            };
            format!("{} {op} {}", quote(&p.column), placeholder(i))
        })
        .collect();
    if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    }
}

/// A PostgreSQL parameter in text format: the server parses it as the column's type.
#[derive(Debug)]
struct TextParam(String);

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

fn my_value(v: &Value) -> mysql::Value {
    match v {
        Value::Text(s) | Value::Date(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        Value::Int(i) => mysql::Value::Int(*i),
        Value::Float(f) => mysql::Value::Double(*f),
        Value::Bool(b) => mysql::Value::Int(i64::from(*b)),
    }
}

enum Conn {
    Pg(Box<postgres::Client>),
    My(Box<mysql::Conn>),
}

/// A read-write connection to one source, for one destruction.
pub struct Eraser {
    display: String,
    conn: Conn,
}

impl std::fmt::Debug for Eraser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Eraser")
            .field("source", &self.display)
            .finish_non_exhaustive()
    }
}

/// The longest a destruction's statement may run.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(600);

impl Eraser {
    /// Connects to `url` (`postgres://…`, `mysql://…`, `mariadb://…`) with a session that
    /// may write.
    pub fn connect(url: &str) -> Result<Eraser, EraseError> {
        let display = canonical_url(url);
        let lower = url.get(..16).unwrap_or(url).to_ascii_lowercase();
        let connect_error = |message: String| EraseError::Connect {
            source_name: display.clone(),
            message,
        };
        let conn = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            let mut config = postgres::Config::from_str(url)
                .map_err(|_| connect_error("invalid PostgreSQL URL".into()))?;
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(Duration::from_secs(10));
            }
            config.application_name("shuan-destruction");
            let mut client = config
                .connect(postgres::NoTls)
                .map_err(|e| connect_error(pg_message(&e)))?;
            client
                .batch_execute(&format!(
                    "SET statement_timeout = {}",
                    STATEMENT_TIMEOUT.as_millis()
                ))
                .map_err(|e| connect_error(pg_message(&e)))?;
            Conn::Pg(Box::new(client))
        } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            let url = match url.split_once("://") {
                Some((_, rest)) => format!("mysql://{rest}"),
                None => url.to_string(),
            };
            let opts = mysql::Opts::from_url(&url)
                .map_err(|_| connect_error("invalid MySQL URL".into()))?;
            let builder = mysql::OptsBuilder::from_opts(opts)
                .tcp_connect_timeout(Some(Duration::from_secs(10)))
                .init(vec!["SET NAMES utf8mb4"]);
            let conn = mysql::Conn::new(builder).map_err(|e| connect_error(e.to_string()))?;
            Conn::My(Box::new(conn))
        } else {
            return Err(EraseError::Unsupported(display));
        };
        Ok(Eraser { display, conn })
    }

    fn db_error(&self, message: String) -> EraseError {
        EraseError::Database {
            source_name: self.display.clone(),
            message,
        }
    }

    /// Rows of `table` matching every predicate of `filter` (all rows for an empty one).
    pub fn count_matching(
        &mut self,
        table: &TableName,
        filter: &[Predicate],
    ) -> Result<u64, EraseError> {
        match &mut self.conn {
            Conn::Pg(client) => {
                let r = pg_count(&mut **client, table, filter);
                r.map_err(|e| self.db_error(pg_message(&e)))
            }
            Conn::My(conn) => {
                let r = my_count(&mut **conn, table, filter);
                r.map_err(|e| self.db_error(e.to_string()))
            }
        }
    }

    /// Whether `table` exists.
    pub fn table_exists(&mut self, table: &TableName) -> Result<bool, EraseError> {
        match &mut self.conn {
            Conn::Pg(client) => {
                let schema = table.schema.as_deref().unwrap_or("public");
                let r = client.query_one(
                    "SELECT count(*) FROM information_schema.tables \
                     WHERE table_schema = $1 AND table_name = $2",
                    &[&schema, &table.table],
                );
                match r {
                    Ok(row) => Ok(row.get::<_, i64>(0) > 0),
                    Err(e) => Err(self.db_error(pg_message(&e))),
                }
            }
            Conn::My(conn) => {
                let r: Result<Option<u64>, mysql::Error> = match &table.schema {
                    Some(s) => conn.exec_first(
                        "SELECT COUNT(*) FROM information_schema.TABLES \
                         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                        (s.as_str(), table.table.as_str()),
                    ),
                    None => conn.exec_first(
                        "SELECT COUNT(*) FROM information_schema.TABLES \
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                        (table.table.as_str(),),
                    ),
                };
                match r {
                    Ok(n) => Ok(n.unwrap_or(0) > 0),
                    Err(e) => Err(self.db_error(e.to_string())),
                }
            }
        }
    }

    /// Deletes the rows of `table` matching `filter` (never empty: refused) in one
    /// transaction that counts the rows still matching before it commits. Answers the
    /// rows deleted.
    pub fn delete_rows(
        &mut self,
        table: &TableName,
        filter: &[Predicate],
    ) -> Result<u64, EraseError> {
        if filter.is_empty() {
            return Err(self.db_error(
                "a row destruction needs a filter; a whole table is dropped instead".into(),
            ));
        }
        match &mut self.conn {
            Conn::Pg(client) => {
                let r = (|| -> Result<Result<u64, u64>, postgres::Error> {
                    let mut tx = client.transaction()?;
                    let (sql, params) = pg_statement("DELETE FROM", table, filter);
                    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                        .iter()
                        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                        .collect();
                    let deleted = tx.execute(sql.as_str(), &refs)?;
                    let remaining = pg_count(&mut tx, table, filter)?;
                    if remaining != 0 {
                        tx.rollback()?;
                        return Ok(Err(remaining));
                    }
                    tx.commit()?;
                    Ok(Ok(deleted))
                })();
                match r {
                    Ok(Ok(n)) => Ok(n),
                    Ok(Err(remaining)) => Err(EraseError::NotGone { remaining }),
                    Err(e) => Err(self.db_error(pg_message(&e))),
                }
            }
            Conn::My(conn) => {
                let r = (|| -> Result<Result<u64, u64>, mysql::Error> {
                    let mut tx = conn.start_transaction(mysql::TxOpts::default())?;
                    let (sql, params) = my_statement("DELETE FROM", table, filter);
                    tx.exec_drop(sql, params)?;
                    let deleted = tx.affected_rows();
                    let remaining = my_count(&mut tx, table, filter)?;
                    if remaining != 0 {
                        tx.rollback()?;
                        return Ok(Err(remaining));
                    }
                    tx.commit()?;
                    Ok(Ok(deleted))
                })();
                match r {
                    Ok(Ok(n)) => Ok(n),
                    Ok(Err(remaining)) => Err(EraseError::NotGone { remaining }),
                    Err(e) => Err(self.db_error(e.to_string())),
                }
            }
        }
    }

    /// Drops `table` (no `CASCADE`). Answers the rows it held.
    pub fn drop_table(&mut self, table: &TableName) -> Result<u64, EraseError> {
        let rows = self.count_matching(table, &[])?;
        match &mut self.conn {
            Conn::Pg(client) => {
                let sql = format!("DROP TABLE {}", table.quoted(quote_double));
                let r = client.batch_execute(&sql);
                r.map_err(|e| self.db_error(pg_message(&e)))?;
            }
            Conn::My(conn) => {
                let sql = format!("DROP TABLE {}", table.quoted(quote_backtick));
                let r = conn.query_drop(sql);
                r.map_err(|e| self.db_error(e.to_string()))?;
            }
        }
        Ok(rows)
    }
}

fn pg_statement(verb: &str, table: &TableName, filter: &[Predicate]) -> (String, Vec<TextParam>) {
    let sql = format!(
        "{verb} {}{}",
        table.quoted(quote_double),
        where_clause(filter, quote_double, |i| format!("${}", i + 1))
    );
    let params = filter.iter().map(|p| TextParam(p.value.text())).collect();
    (sql, params)
}

fn pg_count(
    client: &mut impl postgres::GenericClient,
    table: &TableName,
    filter: &[Predicate],
) -> Result<u64, postgres::Error> {
    let (sql, params) = pg_statement("SELECT count(*) FROM", table, filter);
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let n: i64 = client.query_one(sql.as_str(), &refs)?.get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

fn my_statement(
    verb: &str,
    table: &TableName,
    filter: &[Predicate],
) -> (String, Vec<mysql::Value>) {
    let sql = format!(
        "{verb} {}{}",
        table.quoted(quote_backtick),
        where_clause(filter, quote_backtick, |_| "?".to_string())
    );
    let params = filter.iter().map(|p| my_value(&p.value)).collect();
    (sql, params)
}

fn my_count(
    conn: &mut impl Queryable,
    table: &TableName,
    filter: &[Predicate],
) -> Result<u64, mysql::Error> {
    let (sql, params) = my_statement("SELECT COUNT(*) FROM", table, filter);
    let n: Option<u64> = if params.is_empty() {
        conn.query_first(sql)?
    } else {
        conn.exec_first(sql, params)?
    };
    Ok(n.unwrap_or(0))
}

fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Erases a file: overwrites its bytes with zeros in place and syncs them, removes it,
/// and syncs its directory so the removal survives a crash; answers the bytes
/// overwritten. The file is opened without following a link at its name, and `accept`
/// judges the opened file's own metadata (the caller checks it is the file it was asked
/// to erase — same device, inode and time, one name) before a byte is written. On a
/// copy-on-write or flash file system the old blocks may survive the overwrite; key
/// destruction (crypto-shredding) is the method that does not depend on the medium.
pub fn erase_file(
    path: &std::path::Path,
    accept: &dyn Fn(&std::fs::Metadata) -> bool,
) -> std::io::Result<u64> {
    use std::io::{Seek, Write};
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = options.open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() || !accept(&meta) {
        return Err(std::io::Error::other(
            "the file is not the one the destruction names (it changed, or has other names)",
        ));
    }
    let len = meta.len();
    f.seek(std::io::SeekFrom::Start(0))?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()?;
    drop(f);
    std::fs::remove_file(path)?;
    if let Some(dir) = path.parent() {
        // A directory opened read-only can be synced on Linux; elsewhere this may fail
        // harmlessly after the removal itself succeeded.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(len)
}

#[cfg(test)]
mod tests {

    #[test]
    fn erase_file_zeroes_the_bytes_before_removing_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extract.csv");
        let content = "姓名,身份证号\n张三,110101199003071234\n".repeat(5000);
        std::fs::write(&path, &content).unwrap();
        // A second name of the same file shows what is left in its blocks.
        let other = dir.path().join("other-name.csv");
        std::fs::hard_link(&path, &other).unwrap();
        // Refused when the caller does not recognise the file: nothing is written.
        assert!(erase_file(&path, &|_| false).is_err());
        assert_eq!(std::fs::read_to_string(&other).unwrap(), content);
        let n = erase_file(&path, &|_| true).unwrap();
        assert_eq!(n, content.len() as u64);
        assert!(!path.exists());
        let left = std::fs::read(&other).unwrap();
        assert_eq!(left.len(), content.len());
        assert!(left.iter().all(|b| *b == 0), "the bytes were overwritten");
        assert!(
            erase_file(&path, &|_| true).is_err(),
            "a missing file is an error"
        );
        // A link at the name is not followed.
        #[cfg(unix)]
        {
            let target = dir.path().join("keyring.json");
            std::fs::write(&target, "secret").unwrap();
            let link = dir.path().join("link.csv");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(erase_file(&link, &|_| true).is_err());
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "secret");
        }
    }
    use super::*;
    use shuan_source::query::Op;

    #[test]
    fn locators_split_into_schema_and_table() {
        assert_eq!(
            TableName::from_locator("public.people"),
            TableName {
                schema: Some("public".into()),
                table: "people".into()
            }
        );
        assert_eq!(TableName::from_locator("people").schema, None);
        assert_eq!(TableName::from_locator(".x").schema, None);
    }

    #[test]
    fn values_never_enter_the_sql_text() {
        let filter = vec![
            Predicate {
                column: "name\"; DROP TABLE x; --".into(),
                op: Op::Eq,
                value: Value::Text("'; DELETE FROM y; --".into()),
            },
            Predicate {
                column: "age".into(),
                op: Op::Ge,
                value: Value::Int(60),
            },
        ];
        let t = TableName::from_locator("public.people");
        let (sql, params) = pg_statement("DELETE FROM", &t, &filter);
        assert_eq!(
            sql,
            r#"DELETE FROM "public"."people" WHERE "name""; DROP TABLE x; --" = $1 AND "age" >= $2"#
        );
        assert_eq!(params.len(), 2);
        assert!(!sql.contains("DELETE FROM y"));
        let (sql, params) = my_statement("DELETE FROM", &t, &filter);
        assert_eq!(
            sql,
            "DELETE FROM `public`.`people` WHERE `name\"; DROP TABLE x; --` = ? AND `age` >= ?"
        );
        assert_eq!(params[1], mysql::Value::Int(60));
    }

    #[test]
    fn other_sources_are_refused_by_name() {
        let e = Eraser::connect("/data/people.csv").unwrap_err();
        assert!(
            e.to_string().contains("PostgreSQL and MySQL/MariaDB"),
            "{e}"
        );
        let e = Eraser::connect("postgres://u:s3cret@127.0.0.1:1/x").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
