//! The ledger's error type.

use std::path::PathBuf;

use crate::record::RecordError;

/// What went wrong with the ledger. Messages name the file, the position and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A file-system operation failed (disk full, read-only, permissions...).
    #[error("{action} {path}", path = .path.display())]
    Io {
        /// What the ledger was doing.
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another process has the ledger open for writing.
    #[error("ledger {} is in use by another process (lock held); wait for it to finish", .0.display())]
    Locked(PathBuf),
    /// `ledger.json` is signed by a different key than the one given.
    #[error("{} is not signed by this node's key: wrong data directory or key, or the file was altered", .0.display())]
    KeyMismatch(PathBuf),
    /// `ledger.json` is unreadable.
    #[error("bad ledger identity file {path}: {reason}", path = .path.display())]
    BadMeta {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The stored data is damaged in a way a crash cannot explain.
    #[error("ledger file {path} is damaged at byte offset {offset}: {reason}", path = .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset (or line number for the checkpoint file).
        offset: u64,
        /// What was found.
        reason: String,
    },
    /// An earlier write failed; the ledger refuses further appends (fail-closed).
    #[error("the audit ledger cannot record durably ({0}); reopen it after fixing the cause")]
    Failed(String),
    /// The event is not acceptable.
    #[error("invalid audit event: {0}")]
    Record(#[from] RecordError),
    /// A retention shorter than the legal minimum was requested.
    #[error("retention of {0} days is below the minimum of 180 days (network logs are kept at least 6 months)")]
    RetentionTooShort(u32),
    /// A sequence number or checkpoint that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Refused by the retention policy.
    #[error("{0}")]
    Retention(String),
}
