//! National cryptography (国密 SM2/SM3/SM4), envelope encryption and key management.
//!
//! Owns: SM3, HMAC-SM3, the SM3 KDF, SM4 and its modes, SM2 keys, signatures and
//! encryption, the node identity key, the envelope file format, the keyring and the
//! cryptography of backups.
//! Must not: log or expose secret material (keys never appear in `Debug` output or
//! errors), nor read or write data that is not handed to it.

pub mod backup;
pub mod envelope;
pub mod error;
pub mod ff1;
mod fsutil;
pub mod hex;
pub mod hmac;
pub mod keyring;
pub mod modes;
pub mod node;
pub mod rand;
mod simd;
mod simd_sm3;
pub mod sm2;
mod sm2_verify;
pub mod sm3;
pub mod sm4;
pub mod time;

pub use error::CryptoError;
/// Re-exported so callers can hold secrets in `Zeroizing` without their own dependency.
pub use zeroize;
