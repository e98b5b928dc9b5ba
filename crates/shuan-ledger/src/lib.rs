//! Tamper-evident, non-repudiable audit ledger (审计日志).
//!
//! Owns: append-only hash-chained segment files, the SM3 Merkle tree over records,
//! SM2-signed checkpoints, inclusion and consistency proofs, verification (of the ledger
//! directory, and of a copy of its records held elsewhere against its checkpoints:
//! [`verify_copy`]), query and export, retention and archiving. Group commit makes [`Ledger::append`] return only
//! once the record is durable; any failure is an error (fail-closed).
//! [`Ledger::append_async`] is the same for async code: its future resolves once the
//! record is durable, and no executor thread waits for I/O meanwhile.
//! Must not: lose an acknowledged record, or accept a retention below 180 days.
//!
//! ```no_run
//! use shuan_ledger::{Actor, ActorKind, Event, Ledger, Outcome};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = shuan_crypto::node::load_or_create_node_key("/var/lib/shuan".as_ref())?;
//! let ledger = Ledger::open("/var/lib/shuan/audit", key)?;
//! let seq = ledger.append(&Event {
//!     time: None,
//!     actor: Actor { kind: ActorKind::User, id: "zhang.san".into(), department: Some("民政局".into()), role: None },
//!     action: "export".into(),
//!     object: "pg:civil.residents".into(),
//!     purpose: Some("统计分析".into()),
//!     outcome: Outcome::Allowed,
//!     client: None,
//!     request_id: None,
//!     details: Default::default(),
//! })?;
//! // `seq` is durable here; refuse the audited action if append returned an error.
//! # let _ = seq; Ok(()) }
//! ```
//! The file format and threat model are in `docs/ledger.md`.

mod canon;
pub mod checkpoint;
pub mod copy;
mod error;
pub mod hash;
pub mod ledger;
pub mod merkle;
pub mod prove;
pub mod query;
pub mod reader;
pub mod record;
pub mod retention;
pub mod segment;
pub mod time;
pub mod verify;

pub use checkpoint::{Checkpoint, LedgerMeta, Proof, ProofError, MIN_RETENTION_DAYS};
pub use copy::{verify_copy, CopiedRecord, CopyFinding, CopyReport};
pub use error::LedgerError;
pub use ledger::{Append, Ledger, Options, Recovery};
pub use query::Filter;
pub use record::{Actor, ActorKind, Client, Event, Outcome, Record, RecordError, Seq};
pub use time::Timestamp;
pub use verify::{verify, verify_with_threads, Finding, VerifyOptions, VerifyReport};

/// The ledger directory inside a data directory: `<data_dir>/audit`.
pub fn default_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("audit")
}
