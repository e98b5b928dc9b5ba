//! Credentials (凭据) for the platform's accounts: the password policy, argon2id
//! password hashes, random one-time passwords for new accounts, and TOTP second factors
//! (RFC 6238, any authenticator app) with replay refusal.
//!
//! This crate owns checking and making credentials. It must not store accounts, count
//! failures or lock anyone out (the platform's store and session layer do), and it never
//! logs, prints or returns a secret in an error or in `Debug`.

mod password;
mod totp;

pub use password::{
    hash_password, one_time_password, verify_password, PasswordError, PasswordPolicy,
};
pub use totp::{TotpError, TotpSecret};
