//! Masking and de-identification (脱敏) for shuan.
//!
//! Owns: masking operators, rule sets, static masking jobs, re-identification risk and
//! leak-tracing watermarks.
//! Must not: write masked output over its source.

pub mod error;
pub mod ff1;

pub use error::{MaskError, Result};
