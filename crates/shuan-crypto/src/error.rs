//! The error type of every fallible operation in this crate.

use std::path::PathBuf;

/// What went wrong in a cryptographic operation. No variant ever carries key material,
/// plaintext or a MAC value: only what happened, where, and what to do.
#[derive(thiserror::Error, Debug)]
pub enum CryptoError {
    /// A PEM document could not be parsed as the expected key type.
    #[error("not a valid {expected} PEM document: {reason}")]
    InvalidPem {
        /// What kind of document was expected (e.g. "SM2 PKCS#8 private key").
        expected: &'static str,
        /// Why it was rejected (never contains key bytes).
        reason: String,
    },
    /// A key had the wrong length or was out of range for its algorithm.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// A DER-encoded SM2 signature could not be parsed.
    #[error("malformed SM2 signature (expected DER SEQUENCE of two INTEGERs)")]
    MalformedSignature,
    /// The signature does not match the message and public key.
    #[error("SM2 signature verification failed: the data or the signature was altered, or it was signed by another key")]
    BadSignature,
    /// SM2 ciphertext could not be decrypted (bad format, wrong key or altered).
    #[error("SM2 decryption failed: ciphertext is malformed, altered, or for another key")]
    Sm2DecryptFailed,
    /// Input length not valid for the mode (e.g. CBC ciphertext not a multiple of 16).
    #[error("invalid input length: {0}")]
    InvalidLength(String),
    /// CBC padding was wrong after decryption (wrong key/IV or altered data).
    #[error("bad PKCS#7 padding after decryption: wrong key or IV, or the data was altered")]
    BadPadding,
    /// An authentication tag did not verify.
    #[error("authentication failed: wrong key, or the data was altered")]
    AuthenticationFailed,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// Reading or writing a file failed.
    #[error("{action} {path}")]
    Io {
        /// What we were doing (e.g. "reading node key").
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A key file is readable by other users.
    #[error("{path} is accessible by group/others (mode {mode:o}); run `chmod 600 {path}`", path = .path.display())]
    InsecurePermissions {
        /// The file with too-open permissions.
        path: PathBuf,
        /// Its current permission bits.
        mode: u32,
    },
}

impl CryptoError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        CryptoError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
