//! Tamper-evident, non-repudiable audit ledger (审计日志).
//!
//! Owns: append-only hash-chained segments, Merkle tree, signed checkpoints, proofs,
//! query and export.
//! Must not: lose an acknowledged record.
