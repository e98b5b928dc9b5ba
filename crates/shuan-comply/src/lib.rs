//! Compliance evidence (合规证据): the article-by-article profiles of the regulations shuan
//! implements and of the national baselines it touches, and the engine that evaluates each
//! control for a department and a period into 符合 / 部分符合 / 不符合 / 无证据 / 人工, with
//! the figures, the records cited and the reason.
//!
//! This crate owns the profiles (TOML files under `profiles/`, checked when loaded: every
//! article of a regulation listed, every evidence query known with parameters of the right
//! type), the fixed registry of evidence queries ([`query::QUERIES`]) and their status
//! rules, and the evaluation. It must not read stores or ledgers itself: evidence arrives
//! through the [`EvidenceSource`] trait, which the server implements over its records; a
//! kind of record the platform does not keep is `None` there and 无证据 here, never
//! assumed. It does not render reports, sign them, or decide who may see them.

pub mod compare;
pub mod engine;
pub mod memory;
pub mod profile;
pub mod query;
pub mod source;

pub use compare::{compare, Change, CompareError, Comparison, ControlChange};
pub use engine::{evaluate, ControlResult, EngineError, Evaluation, Fact, Status};
pub use memory::MemorySource;
pub use profile::{Control, ControlKind, Coverage, Profile, ProfileError, ProfileKind};
pub use query::{EvidenceQuery, QueryError, QUERIES};
pub use source::{EvidenceSource, Period, RecordRef};
