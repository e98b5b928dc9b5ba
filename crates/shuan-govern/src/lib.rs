//! Governance workflows' rules for shuan (数据治理): what a destruction (数据销毁, R-26) may
//! name and how it is carried out and proven, without HTTP or storage.
//!
//! Owns: the destruction target model ([`Target`]: a key version crypto-shredded in the
//! keyring, rows of a registered source's table chosen by a bound-value filter, a whole
//! table) with its validation and the methods each kind allows; legal holds' scopes
//! ([`HoldScope`]) and the hold keys a target falls under; [`erase`], the only code in
//! shuan that deletes from a source — rows in one transaction that re-counts before it
//! commits, or a dropped table — each followed by a check on a fresh connection that the
//! data is gone; and the destruction certificate (销毁证明, [`certificate`]): canonical JSON
//! signed with the node's SM2 key, anchored in the ledger, verifiable offline; and
//! data-quality rules ([`quality`], R-07): checks of a table's columns run streaming
//! against the real source, with counts and masked samples of offending rows.
//! Must not: decide who may destroy (the policy does), store records or write the ledger
//! (the server does, before acting), touch anything an approved destruction does not
//! name, put a value of a filter into SQL text (values are bound), or show an offending
//! value unmasked.

#![warn(missing_docs)]

pub mod certificate;
pub mod destruction;
pub mod erase;
pub mod quality;

pub use certificate::{Certificate, CertificateError, Verification, CERTIFICATE_FORMAT};
pub use destruction::{FilterTerm, HoldScope, Method, Target, TargetError};
