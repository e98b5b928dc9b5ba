//! The masking log (脱敏日志, R-17): who masked or unmasked what, when, with which rules.
//!
//! Behind the [`MaskLog`] trait so the JSON Lines file can be replaced by the audit ledger
//! without touching the callers.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{MaskError, Result};
use crate::job::ColumnStats;

/// One masking, unmasking or watermarking event.
#[derive(Clone, Debug, Serialize)]
pub struct MaskLogRecord {
    /// `mask`, `unmask` or `watermark_detect`.
    pub event: String,
    /// Operating-system user (or `--operator`).
    pub who: String,
    /// RFC 3339 UTC time.
    pub when: String,
    /// Source (path or URL without password).
    pub source: String,
    /// Destination written.
    pub destination: Option<String>,
    /// Scenario id.
    pub scenario: Option<String>,
    /// SM3 of the rule texts used.
    pub ruleset_sm3: Option<String>,
    /// Rule files used.
    pub rule_files: Vec<String>,
    /// Public fingerprint of the masking key (never the key).
    pub key_fingerprint: Option<String>,
    /// Watermark recipient, if one was embedded or detected.
    pub recipient: Option<String>,
    /// Stated purpose (unmask).
    pub purpose: Option<String>,
    /// Per table: rows and per-column operators and counts.
    pub tables: Vec<TableLog>,
}

impl MaskLogRecord {
    /// The details of this record's audit-ledger entry (the masking log is the ledger):
    /// everything but the event, the time and the operator's OS name, which the ledger
    /// records itself (`operator` keeps the stated one), plus the key's origin.
    pub fn audit_details(
        &self,
        key: Option<&crate::key::KeyOrigin>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut details = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        details.remove("when");
        details.remove("event");
        if let Some(who) = details.remove("who") {
            details.insert("operator".into(), who);
        }
        details.retain(|_, v| !v.is_null());
        if let Some(k) = key {
            details.insert("key".into(), k.to_json());
        }
        details
    }
}

/// Counts of one table in a log record.
#[derive(Clone, Debug, Serialize)]
pub struct TableLog {
    /// Table name.
    pub table: String,
    /// Rows written.
    pub rows: u64,
    /// Columns, operators and counts.
    pub columns: Vec<ColumnStats>,
}

/// Somewhere masking events are recorded.
pub trait MaskLog {
    /// Append one record durably.
    fn append(&mut self, record: &MaskLogRecord) -> Result<()>;
}

/// JSON Lines log at `<data_dir>/mask-log.jsonl`, fsynced per record.
pub struct JsonlMaskLog {
    path: PathBuf,
}

impl JsonlMaskLog {
    /// The log in `data_dir` (created on first append).
    pub fn in_dir(data_dir: &Path) -> Self {
        JsonlMaskLog {
            path: data_dir.join("mask-log.jsonl"),
        }
    }
    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl MaskLog for JsonlMaskLog {
    fn append(&mut self, record: &MaskLogRecord) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| MaskError::io(dir, e))?;
        }
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| MaskError::io(&self.path, e))?;
        f.write_all(&line)
            .map_err(|e| MaskError::io(&self.path, e))?;
        f.sync_all().map_err(|e| MaskError::io(&self.path, e))
    }
}

/// The current operating-system user name.
pub fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
