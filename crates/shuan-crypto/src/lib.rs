//! National cryptography (国密 SM2/SM3/SM4), envelope encryption and key management.
//!
//! Owns: SM3, HMAC-SM3, SM4 modes, SM2 keys and signatures, the envelope file format,
//! the keyring and backups' crypto.
//! Must not: log or expose secret material.
