//! Errors of the masking library.

use std::path::PathBuf;

/// What can go wrong while masking, checking rules, measuring risk or tracing leaks.
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    /// A value could not be processed by an operator (the value itself is never included).
    #[error("operator {operator} cannot process this value: {reason}")]
    Value {
        /// Operator name.
        operator: &'static str,
        /// What was wrong, without the value.
        reason: String,
    },
    /// Format-preserving encryption was given parameters it cannot use.
    #[error("format-preserving encryption: {0}")]
    Fpe(String),
    /// A rule file is invalid.
    #[error("{file}:{line}: {message}\n  fix: {hint}")]
    Rule {
        /// The rule file (or `<builtin>`).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// A key could not be loaded.
    #[error("masking key {path}: {reason}")]
    Key {
        /// Where the key was looked for.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The operation needs a key and none was given.
    #[error("{0} needs a masking key: pass --key-file FILE (32 random bytes as hex, mode 0600) or set SHUAN_MASK_KEY_FILE")]
    KeyRequired(String),
    /// The output would overwrite the input.
    #[error("refusing to write {0}: it is the source; choose another --out")]
    WouldOverwriteSource(PathBuf),
    /// I/O failure on a named path.
    #[error("{path}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// CSV writing/reading failure.
    #[error("CSV")]
    Csv(#[from] csv::Error),
    /// SQLite output failure.
    #[error("SQLite output")]
    Sqlite(#[from] rusqlite::Error),
    /// JSON failure.
    #[error("JSON")]
    Json(#[from] serde_json::Error),
    /// Bad argument given by the caller.
    #[error("{0}")]
    Invalid(String),
}

impl MaskError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MaskError::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn value(operator: &'static str, reason: impl Into<String>) -> Self {
        MaskError::Value {
            operator,
            reason: reason.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = MaskError> = std::result::Result<T, E>;

impl From<shuan_crypto::ff1::Ff1Error> for MaskError {
    fn from(e: shuan_crypto::ff1::Ff1Error) -> Self {
        MaskError::Fpe(e.0)
    }
}
