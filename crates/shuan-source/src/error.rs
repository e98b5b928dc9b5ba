//! The one error type of the crate. Messages name the source (never with a password), the
//! line or row when there is one, and what the user can do about it.

/// Everything that can go wrong while opening or reading a source.
#[derive(thiserror::Error, Debug)]
pub enum SourceError {
    /// The file or directory does not exist.
    #[error("{path}: no such file or directory; check the path")]
    NotFound {
        /// The path as given.
        path: String,
    },
    /// Reading the file failed (permissions, I/O error).
    #[error("{path}: cannot read (check that the file is readable)")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed CSV/TSV record. The reader skips it and continues; see `docs/sources.md`.
    #[error("{path}:{line}: malformed row: {message}; fix or remove this row")]
    Csv {
        /// The file.
        path: String,
        /// 1-based line where the record starts.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Bytes that are not valid in the file's (detected or given) text encoding.
    #[error("{path}:{line}: text is not valid {encoding}; if the file is in another encoding pass it explicitly (e.g. --encoding gbk or utf-8)")]
    Encoding {
        /// The file.
        path: String,
        /// 1-based line where the record starts.
        line: u64,
        /// The encoding the file was read as.
        encoding: &'static str,
    },
    /// A single record (line, JSON value) is larger than the configured cap.
    #[error("{path}:{line}: one record is larger than {limit} bytes (an unterminated quote or not a text table?); reading of this table stopped")]
    RecordTooLarge {
        /// The file.
        path: String,
        /// 1-based line where the record starts.
        line: u64,
        /// The cap in bytes.
        limit: usize,
    },
    /// The file looks binary although its extension says text; it is skipped.
    #[error("{path}: skipped: {reason}")]
    Binary {
        /// The file.
        path: String,
        /// Why it is considered binary.
        reason: String,
    },
    /// A malformed JSON/JSONL record (skipped, reading continues) or a file that is not JSON.
    #[error("{path}:{line}: {message}")]
    Json {
        /// The file.
        path: String,
        /// 1-based line where the record starts.
        line: u64,
        /// What is wrong, and what to do.
        message: String,
    },
    /// An XLSX workbook that cannot be read.
    #[error("{path}: cannot read workbook: {message}; check that it is a valid .xlsx (not password-protected)")]
    Xlsx {
        /// The file.
        path: String,
        /// calamine's description.
        message: String,
    },
    /// A Parquet file that cannot be read.
    #[error("{path}: cannot read Parquet: {message}")]
    Parquet {
        /// The file.
        path: String,
        /// The parquet crate's description.
        message: String,
    },
    /// An SQLite file that cannot be read.
    #[error("{path}: SQLite: {message}")]
    Sqlite {
        /// The file.
        path: String,
        /// SQLite's description.
        message: String,
    },
    /// A PostgreSQL or MySQL/MariaDB error (connection, authentication, query).
    #[error("{source_name}: {message}")]
    Database {
        /// The database URL with the password removed.
        source_name: String,
        /// The server's or driver's description (never contains the password).
        message: String,
    },
    /// Too many malformed rows: the file is probably not what its extension says.
    #[error("{path}: {bad_rows} malformed rows (more than the good ones); first: {first}")]
    TooManyBadRows {
        /// The source or file.
        path: String,
        /// How many rows were malformed when reading stopped.
        bad_rows: u64,
        /// The first malformed row's error.
        first: Box<SourceError>,
    },
    /// A table name that the source does not have (or a `TableRef` from another source).
    #[error("{source_name}: no table {table}")]
    NoSuchTable {
        /// The source.
        source_name: String,
        /// The table asked for.
        table: String,
    },
    /// The spec is neither a readable path nor a supported URL, or a file type is not supported.
    #[error("unsupported source: {what}")]
    Unsupported {
        /// What was given, and what is supported instead.
        what: String,
    },
}

impl SourceError {
    /// True for errors that concern one row only: the reader has skipped that row and can
    /// go on with the next one.
    pub fn is_row_error(&self) -> bool {
        matches!(
            self,
            SourceError::Csv { .. } | SourceError::Encoding { .. } | SourceError::Json { .. }
        )
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> SourceError {
        let path = path.display().to_string();
        if source.kind() == std::io::ErrorKind::NotFound {
            SourceError::NotFound { path }
        } else {
            SourceError::Io { path, source }
        }
    }
}
