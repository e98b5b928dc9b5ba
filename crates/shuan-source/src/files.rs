//! Sources made of files: one file, or the files found in a directory.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

#[cfg(feature = "parquet")]
use crate::parquet_source;
use crate::{
    delimited, json, sample_rows, sqlite, xlsx, Locator, RowReader, Skipped, Source, SourceError,
    SourceOptions, TableRef, TableSample,
};

/// The file formats read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    Delimited,
    Json,
    JsonLines,
    Xlsx,
    Parquet,
    Sqlite,
}

impl FileKind {
    /// The format an extension stands for; `None` for extensions not read.
    pub(crate) fn from_extension(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" | "tsv" | "tab" => FileKind::Delimited,
            "json" => FileKind::Json,
            "jsonl" | "ndjson" => FileKind::JsonLines,
            "xlsx" | "xlsm" => FileKind::Xlsx,
            "parquet" | "pq" => FileKind::Parquet,
            "db" | "sqlite" | "sqlite3" | "db3" => FileKind::Sqlite,
            _ => return None,
        })
    }
}

/// Reads the first bytes of a file (fewer if it is shorter).
pub(crate) fn read_head(path: &Path, len: usize) -> Result<Vec<u8>, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let mut head = Vec::with_capacity(len);
    file.take(len as u64)
        .read_to_end(&mut head)
        .map_err(|e| SourceError::io(path, e))?;
    Ok(head)
}

/// The format a file's first bytes reveal, for files with an unknown extension.
fn sniff_kind(head: &[u8]) -> Option<FileKind> {
    if head.starts_with(b"SQLite format 3\0") {
        Some(FileKind::Sqlite)
    } else if head.starts_with(b"PAR1") {
        Some(FileKind::Parquet)
    } else if head.starts_with(b"PK\x03\x04") {
        Some(FileKind::Xlsx)
    } else {
        None
    }
}

/// Why a text file's head says it is not text, if it does.
pub(crate) fn binary_reason(head: &[u8]) -> Option<String> {
    // UTF-16 text (Excel "Unicode text") is full of NUL bytes but is text.
    if crate::delimited::utf16_bom(head).is_some() {
        return None;
    }
    let window = &head[..head.len().min(8192)];
    if let Some(kind) = sniff_kind(window) {
        return Some(format!(
            "content is {kind:?} although the extension says text; rename the file"
        ));
    }
    if window.contains(&0) {
        return Some("binary content (NUL bytes in the first 8 KiB), not a text table".into());
    }
    None
}

/// One file or the files of a directory.
pub(crate) struct FileSource {
    display: String,
    files: Vec<(PathBuf, FileKind)>,
    /// Single file: errors while listing fail the source; directory: they skip the file.
    is_directory: bool,
    skipped: Vec<Skipped>,
    options: SourceOptions,
    /// The workbook last opened, kept so sheet readers can borrow it.
    workbook: Option<(PathBuf, xlsx::Workbook)>,
}

impl FileSource {
    pub(crate) fn open_single(
        path: &Path,
        kind: Option<FileKind>,
        options: SourceOptions,
    ) -> Result<FileSource, SourceError> {
        let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
        if meta.is_dir() {
            return Err(SourceError::Unsupported {
                what: format!("{}: is a directory, not an SQLite file", path.display()),
            });
        }
        let path = &canonical_path(path)?;
        let kind = match kind.or_else(|| FileKind::from_extension(path)) {
            Some(kind) => kind,
            None => {
                let head = read_head(path, 8192)?;
                match sniff_kind(&head) {
                    Some(kind) => kind,
                    None if binary_reason(&head).is_none() => FileKind::Delimited,
                    None => {
                        return Err(SourceError::Unsupported {
                            what: format!(
                                "{}: unknown file type; supported: .csv .tsv .json .jsonl .xlsx .parquet .db/.sqlite",
                                path.display()
                            ),
                        })
                    }
                }
            }
        };
        Ok(FileSource {
            display: path.display().to_string(),
            files: vec![(path.to_path_buf(), kind)],
            is_directory: false,
            skipped: Vec::new(),
            options,
            workbook: None,
        })
    }

    pub(crate) fn open_many(
        display: String,
        files: Vec<(PathBuf, FileKind)>,
        skipped: Vec<Skipped>,
        options: SourceOptions,
    ) -> FileSource {
        FileSource {
            display,
            files,
            is_directory: true,
            skipped,
            options,
            workbook: None,
        }
    }

    fn tables_of(&mut self, path: &Path, kind: FileKind) -> Result<Vec<TableRef>, SourceError> {
        let size = std::fs::metadata(path)
            .map_err(|e| SourceError::io(path, e))?
            .len();
        let source = path.display().to_string();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let one = |locator| {
            vec![TableRef {
                source: source.clone(),
                name: stem.clone(),
                path: Some(path.to_path_buf()),
                size_bytes: Some(size),
                locator,
            }]
        };
        match kind {
            FileKind::Delimited | FileKind::Json | FileKind::JsonLines => {
                let head = read_head(path, 8192)?;
                let utf16_json =
                    kind != FileKind::Delimited && crate::delimited::utf16_bom(&head).is_some();
                if utf16_json {
                    return Err(SourceError::Unsupported {
                        what: format!("{source}: UTF-16 JSON; save it as UTF-8"),
                    });
                }
                if let Some(reason) = binary_reason(&head) {
                    return Err(SourceError::Binary {
                        path: source,
                        reason,
                    });
                }
                Ok(one(match kind {
                    FileKind::Delimited => Locator::Delimited,
                    FileKind::Json => Locator::Json,
                    _ => Locator::JsonLines,
                }))
            }
            FileKind::Parquet => Ok(one(Locator::Parquet)),
            FileKind::Xlsx => {
                let sheets = self.workbook(path)?.sheet_names();
                let several = sheets.len() > 1;
                Ok(sheets
                    .into_iter()
                    .map(|sheet| TableRef {
                        source: source.clone(),
                        name: if several {
                            format!("{stem}/{sheet}")
                        } else {
                            stem.clone()
                        },
                        path: Some(path.to_path_buf()),
                        size_bytes: Some(size),
                        locator: Locator::XlsxSheet(sheet),
                    })
                    .collect())
            }
            FileKind::Sqlite => Ok(sqlite::list_tables(path)?
                .into_iter()
                .map(|table| TableRef {
                    source: source.clone(),
                    name: table.clone(),
                    path: Some(path.to_path_buf()),
                    size_bytes: None,
                    locator: Locator::SqliteTable(table),
                })
                .collect()),
        }
    }

    fn workbook(&mut self, path: &Path) -> Result<&mut xlsx::Workbook, SourceError> {
        let cached = matches!(&self.workbook, Some((p, _)) if p == path);
        if !cached {
            self.workbook = None;
            self.workbook = Some((path.to_path_buf(), xlsx::Workbook::open(path)?));
        }
        Ok(&mut self.workbook.as_mut().expect("just set").1)
    }

    fn check_owned(&self, table: &TableRef) -> Result<PathBuf, SourceError> {
        match &table.path {
            Some(path) if self.files.iter().any(|(p, _)| p == path) => Ok(path.clone()),
            _ => Err(SourceError::NoSuchTable {
                source_name: self.display.clone(),
                table: table.name.clone(),
            }),
        }
    }
}

impl Source for FileSource {
    fn display_name(&self) -> String {
        self.display.clone()
    }

    fn tables(&mut self) -> Result<Vec<TableRef>, SourceError> {
        let mut tables = Vec::new();
        let mut skipped = Vec::new();
        for (path, kind) in self.files.clone() {
            match self.tables_of(&path, kind) {
                Ok(found) => tables.extend(found),
                Err(e) if self.is_directory => skipped.push(Skipped {
                    path: path.clone(),
                    // Binary content under a text extension is not data: skipped on
                    // purpose. Anything else (permissions, I/O, a corrupt workbook) is
                    // data that could not be read.
                    unreadable: !matches!(e, SourceError::Binary { .. }),
                    reason: crate::error_chain(&e),
                }),
                Err(e) => return Err(e),
            }
        }
        // Listing twice must not report the same file twice.
        for s in skipped {
            if !self.skipped.contains(&s) {
                self.skipped.push(s);
            }
        }
        Ok(tables)
    }

    fn open_table(&mut self, table: &TableRef) -> Result<Box<dyn RowReader + '_>, SourceError> {
        let path = self.check_owned(table)?;
        let options = self.options.clone();
        match &table.locator {
            Locator::Delimited => Ok(Box::new(delimited::DelimitedReader::open(&path, &options)?)),
            Locator::Json => Ok(Box::new(json::JsonReader::open(&path, false, &options)?)),
            Locator::JsonLines => Ok(Box::new(json::JsonReader::open(&path, true, &options)?)),
            #[cfg(feature = "parquet")]
            Locator::Parquet => Ok(Box::new(parquet_source::ParquetReader::open(
                &path, &options,
            )?)),
            #[cfg(not(feature = "parquet"))]
            Locator::Parquet => Err(crate::not_built_in("Parquet", "parquet")),
            Locator::XlsxSheet(sheet) => {
                let sheet = sheet.clone();
                let size = table.size_bytes.unwrap_or(0);
                let workbook = self.workbook(&path)?;
                Ok(Box::new(
                    workbook.sheet_reader(&path, &sheet, size, options)?,
                ))
            }
            Locator::SqliteTable(name) => Ok(Box::new(sqlite::SqliteReader::open(
                &path, name, None, options,
            )?)),
            Locator::DbTable { .. } => Err(SourceError::NoSuchTable {
                source_name: self.display.clone(),
                table: table.name.clone(),
            }),
        }
    }

    fn sample_table(
        &mut self,
        table: &TableRef,
        per_column: usize,
    ) -> Result<TableSample, SourceError> {
        if let Locator::SqliteTable(name) = &table.locator {
            let path = self.check_owned(table)?;
            return sqlite::sample(&path, name, table, per_column, &self.options);
        }
        let mut reader = self.open_table(table)?;
        sample_rows(table, reader.as_mut(), per_column, true)
    }

    fn skipped(&self) -> Vec<Skipped> {
        self.skipped.clone()
    }
}

/// The canonical absolute path of an existing file or directory: the one name of a file
/// source however it was typed (`in/people.csv`, `./people.csv` from `in/`, a link to it).
pub(crate) fn canonical_path(path: &Path) -> Result<PathBuf, SourceError> {
    std::fs::canonicalize(path).map_err(|e| SourceError::io(path, e))
}

/// Buffered file reader used by the JSON readers.
pub(crate) fn open_buffered(path: &Path) -> Result<BufReader<File>, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    Ok(BufReader::with_capacity(256 * 1024, file))
}
