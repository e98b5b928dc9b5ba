//! Where a masking run writes, and the guard that it never writes over its source: the
//! destination of `--out` resolved once per run, and each table's file or table name in
//! it. A library call so that the CLI and a server refuse the same destinations.

use std::path::{Path, PathBuf};

use shuan_source::TableRef;

use crate::error::{MaskError, Result};
use crate::sink::{ensure_not_source, FileFormat};

/// A resolved destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// One file (the source has one table).
    File(PathBuf, FileFormat),
    /// A directory, one file per table in this format.
    Dir(PathBuf, FileFormat),
    /// An SQLite database file, one new table per source table.
    Sqlite(PathBuf),
    /// A PostgreSQL or MySQL URL (with its password: only ever shown redacted).
    Database(String),
}

/// What [`Destination::resolve`] needs.
pub struct DestRequest<'a> {
    /// `--out` as given.
    pub out: &'a Path,
    /// The source as given (path or URL).
    pub source_spec: &'a str,
    /// The source's display name, for messages.
    pub source_name: &'a str,
    /// The tables that will be masked.
    pub tables: &'a [TableRef],
    /// File format of a directory destination.
    pub dir_format: FileFormat,
}

/// True for a `postgres://`, `postgresql://`, `mysql://` or `mariadb://` URL.
pub fn is_database_url(spec: &str) -> bool {
    let lower = spec.get(..13).unwrap_or(spec).to_ascii_lowercase();
    ["postgres://", "postgresql://", "mysql://", "mariadb://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// `host:port/database` of a database URL, ignoring user, password and options: two URLs
/// with the same location are the same database.
fn db_location(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    rest.trim_end_matches('/').to_ascii_lowercase()
}

/// True when `out` names a file (a name with an extension such as `x.parquet`, not
/// ending in a separator) rather than a directory to create.
fn looks_like_a_file(out: &Path) -> bool {
    let text = out.to_string_lossy();
    !text.ends_with('/')
        && !text.ends_with(std::path::MAIN_SEPARATOR)
        && out.extension().is_some_and(|e| {
            !e.is_empty()
                && e.len() <= 8
                && e.to_string_lossy()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric())
        })
}

/// A table name usable as a file name (path separators and `:` become `_`).
pub fn table_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

impl Destination {
    /// Resolves `--out`, refusing a destination that is the source (its file, its SQLite
    /// database, its database server and database), a file format masking cannot write,
    /// and a single file for several tables. Creates a directory destination.
    pub fn resolve(req: &DestRequest<'_>) -> Result<Destination> {
        let out = req.out;
        let out_text = out.to_string_lossy();
        let source_paths: Vec<PathBuf> = req.tables.iter().filter_map(|t| t.path.clone()).collect();
        if is_database_url(&out_text) {
            if is_database_url(req.source_spec)
                && db_location(&out_text) == db_location(req.source_spec)
            {
                return Err(MaskError::Invalid(format!(
                    "refusing to write masked tables into the source database {}; give another database as --out",
                    shuan_source::redact_url(&out_text)
                )));
            }
            return Ok(Destination::Database(out_text.into_owned()));
        }
        match FileFormat::from_path(out) {
            Some(FileFormat::Sqlite) => {
                if let Some(p) = req
                    .source_spec
                    .get(.."sqlite://".len())
                    .filter(|s| s.eq_ignore_ascii_case("sqlite://"))
                    .map(|_| Path::new(&req.source_spec["sqlite://".len()..]))
                {
                    ensure_not_source(out, &[p.to_path_buf()])?;
                }
                ensure_not_source(out, &source_paths)?;
                Ok(Destination::Sqlite(out.to_path_buf()))
            }
            None if !out.is_dir() && looks_like_a_file(out) => Err(MaskError::Invalid(format!(
                "--out {}: masked output is written as .csv, .jsonl (.json, .ndjson), a .db/.sqlite \
                 SQLite file, a directory, or a postgres:// or mysql:// table; {} files are not \
                 a masking destination (to write one file per table into a directory of that name, \
                 end it with /)",
                out.display(),
                out.extension().unwrap_or_default().to_string_lossy()
            ))),
            Some(fmt) if !out.is_dir() => {
                if req.tables.len() > 1 {
                    return Err(MaskError::Invalid(format!(
                        "{} has {} tables; give a directory or a .db file as --out, or pick one with --table",
                        req.source_name,
                        req.tables.len()
                    )));
                }
                ensure_not_source(out, &source_paths)?;
                Ok(Destination::File(out.to_path_buf(), fmt))
            }
            _ => {
                std::fs::create_dir_all(out).map_err(|e| MaskError::Io {
                    path: out.to_path_buf(),
                    source: std::io::Error::new(
                        e.kind(),
                        format!("creating the output directory: {e}"),
                    ),
                })?;
                Ok(Destination::Dir(out.to_path_buf(), req.dir_format))
            }
        }
    }

    /// The file `table` is written to (file and directory destinations), checked again
    /// against the source files.
    pub fn file_for(
        &self,
        table: &TableRef,
        source_paths: &[PathBuf],
    ) -> Result<Option<(PathBuf, FileFormat)>> {
        let (path, fmt) = match self {
            Destination::File(p, fmt) => (p.clone(), *fmt),
            Destination::Dir(p, fmt) => {
                let ext = if *fmt == FileFormat::JsonLines {
                    "jsonl"
                } else {
                    "csv"
                };
                (
                    p.join(format!("{}.{ext}", table_file_name(&table.name))),
                    *fmt,
                )
            }
            _ => return Ok(None),
        };
        ensure_not_source(&path, source_paths)?;
        Ok(Some((path, fmt)))
    }

    /// The name of the new table for `table` in an SQLite or database destination: a
    /// database table keeps its name without the schema; a file's name loses its
    /// extension dot.
    pub fn table_name_for(&self, table: &TableRef) -> String {
        match (self, &table.path) {
            (Destination::Database(_), None) => table
                .name
                .rsplit('.')
                .next()
                .unwrap_or(&table.name)
                .to_string(),
            _ => table_file_name(&table.name).replace('.', "_"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_database_and_unwritable_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let req = |out: &Path, spec: &'static str| DestRequest {
            out: Box::leak(out.to_path_buf().into_boxed_path()),
            source_spec: spec,
            source_name: spec,
            tables: &[],
            dir_format: FileFormat::Csv,
        };
        let same = Path::new("postgres://other:pw@DB:5432/hr?sslmode=disable");
        assert!(Destination::resolve(&req(same, "postgres://u@db:5432/hr")).is_err());
        let other = Path::new("postgres://u@db:5432/hr_test");
        assert_eq!(
            Destination::resolve(&req(other, "postgres://u@db:5432/hr")).unwrap(),
            Destination::Database(other.to_string_lossy().into_owned())
        );
        let parquet = dir.path().join("x.parquet");
        let e = Destination::resolve(&req(&parquet, "in.csv")).unwrap_err();
        assert!(e.to_string().contains("parquet files are not"), "{e}");
        assert!(!parquet.exists());
        let db = dir.path().join("src.db");
        let spec: &'static str = Box::leak(format!("sqlite://{}", db.display()).into_boxed_str());
        std::fs::write(&db, b"").unwrap();
        assert!(Destination::resolve(&req(&db, spec)).is_err());
    }
}
