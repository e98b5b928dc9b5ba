//! Masking and de-identification (脱敏) for shuan.
//!
//! Owns: masking operators, rule sets, static masking jobs, re-identification risk and
//! leak-tracing watermarks.
//! Must not: write masked output over its source.

pub mod dates;
pub mod dest;
pub mod error;
pub mod fpe;
pub mod job;
pub mod key;
pub mod log;
pub mod ops;
pub mod plan;
pub mod risk;
pub mod rules;
pub mod sink;
pub mod source_job;
pub mod table_job;
pub mod watermark;

pub use error::{MaskError, Result};
pub use fpe::Alphabet;
pub use key::MaskKeys;
pub use ops::{ApplyCtx, Operator};
/// FF1 moved to `shuan-crypto` (a cipher mode); re-exported under its old path.
pub use shuan_crypto::ff1;
