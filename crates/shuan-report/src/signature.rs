//! The report's detached signature, `FILE.sig` (JSON, format [`SIGNATURE_FORMAT`]):
//!
//! - `sm3`: SM3 of the report file's bytes (hex) — the digest anchored in the ledger;
//! - `signature`: SM2 signature (DER, hex) by the node key over the file's bytes with the
//!   default user ID `1234567812345678` (so `openssl dgst -sm3 -verify PUB.pem -sigopt
//!   distid:1234567812345678 -signature SIG.der FILE` checks it too, after `xxd -r -p`);
//! - `public_key`: the signer's public key (PEM) and `signer`, SM3 of its SEC1 bytes;
//! - `ledger`: the node's ledger id and the sequence number of the `report.build` record
//!   whose details hold the same `sm3`;
//! - what the report is of (`regulation`, `department`, `period`) and `signed_at`.
//!
//! The embedded key only proves the file is unchanged since someone signed it; who signed
//! it is proven by checking against a copy of the node's public key kept elsewhere
//! (`--public-key`), or by the ledger record.

use serde::{Deserialize, Serialize};
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};

use crate::ReportError;

/// The `format` of a report signature.
pub const SIGNATURE_FORMAT: &str = "shuan-report-sig/1";

/// Where the digest is anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerAnchor {
    /// The node's ledger id.
    pub id: String,
    /// Sequence number of the `report.build` record holding the digest.
    pub seq: u64,
}

/// The contents of `FILE.sig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSignature {
    /// [`SIGNATURE_FORMAT`].
    pub format: String,
    /// The report's file name (informative: the file may be renamed).
    pub file: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// SM3 of the file, hex.
    pub sm3: String,
    /// `sm2-sm3`.
    pub algorithm: String,
    /// SM2 signature over the file (default user ID), DER, hex.
    pub signature: String,
    /// The signer's public key, PEM.
    pub public_key: String,
    /// SM3 of the signer's SEC1 public key, hex.
    pub signer: String,
    /// The ledger record anchoring the digest.
    pub ledger: LedgerAnchor,
    /// Profile id (`jc` …).
    pub regulation: String,
    /// Department code.
    pub department: String,
    /// The period, `YYYY-MM-DD—YYYY-MM-DD`.
    pub period: String,
    /// When signed, UTC RFC 3339.
    pub signed_at: String,
}

/// What a report is of, for its signature.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// File name.
    pub file: &'a str,
    /// Profile id.
    pub regulation: &'a str,
    /// Department code.
    pub department: &'a str,
    /// Period as shown.
    pub period: &'a str,
}

/// SM3 of `bytes`, hex.
pub fn digest(bytes: &[u8]) -> String {
    shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(bytes))
}

/// Signs the report `bytes`, whose digest is in the ledger record `ledger`.
pub fn sign(
    bytes: &[u8],
    key: &SigningKey,
    ledger: LedgerAnchor,
    subject: &Subject<'_>,
) -> ReportSignature {
    let vk = key.verifying_key();
    ReportSignature {
        format: SIGNATURE_FORMAT.to_string(),
        file: subject.file.to_string(),
        bytes: bytes.len() as u64,
        sm3: digest(bytes),
        algorithm: "sm2-sm3".to_string(),
        signature: shuan_crypto::hex::encode(&key.sign(bytes).to_der()),
        public_key: vk.to_public_key_pem(),
        signer: shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(&vk.to_sec1_bytes())),
        ledger,
        regulation: subject.regulation.to_string(),
        department: subject.department.to_string(),
        period: subject.period.to_string(),
        signed_at: shuan_crypto::time::now_rfc3339(),
    }
}

impl ReportSignature {
    /// Parses `FILE.sig`.
    pub fn parse(text: &str) -> Result<ReportSignature, ReportError> {
        let sig: ReportSignature =
            serde_json::from_str(text).map_err(|e| ReportError::BadSignatureFile(e.to_string()))?;
        if sig.format != SIGNATURE_FORMAT {
            return Err(ReportError::BadSignatureFile(format!(
                "format `{}`, expected `{SIGNATURE_FORMAT}`",
                sig.format.chars().take(40).collect::<String>()
            )));
        }
        Ok(sig)
    }

    /// As written to `FILE.sig`.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a signature serialises");
        s.push('\n');
        s
    }
}

/// The result of checking a report against its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Every check passed.
    pub valid: bool,
    /// The file's SM3 now.
    pub sm3: String,
    /// Which key the signature was checked with: `given` (`--public-key`) or `embedded`.
    pub key: &'static str,
    /// What failed (English, for the CLI), empty when valid.
    pub problems: Vec<String>,
}

/// Checks `bytes` against `sig`: the digest, the signature with `public_key` (else the
/// embedded key), and that the embedded key is that key.
pub fn verify(
    bytes: &[u8],
    sig: &ReportSignature,
    public_key: Option<&VerifyingKey>,
) -> Result<Verification, ReportError> {
    let embedded = VerifyingKey::from_public_key_pem(&sig.public_key)
        .map_err(|e| ReportError::Key(format!("the signature's embedded key: {e}")))?;
    let mut problems = Vec::new();
    let now = digest(bytes);
    if now != sig.sm3 {
        problems.push(format!(
            "the file's SM3 {now} differs from the signed {}: the report was changed",
            sig.sm3
        ));
    }
    if bytes.len() as u64 != sig.bytes {
        problems.push(format!(
            "the file has {} bytes, the signature says {}",
            bytes.len(),
            sig.bytes
        ));
    }
    let key = match public_key {
        Some(k) => {
            if *k != embedded {
                problems.push(
                    "the signature's embedded key is not the given public key: signed by another node"
                        .to_string(),
                );
            }
            k
        }
        None => &embedded,
    };
    let signature_ok = shuan_crypto::hex::decode(&sig.signature)
        .ok()
        .and_then(|der| Signature::from_der(&der).ok())
        .is_some_and(|s| key.verify(bytes, &s).is_ok());
    if !signature_ok {
        problems.push("the SM2 signature does not verify over the file".to_string());
    }
    Ok(Verification {
        valid: problems.is_empty(),
        sm3: now,
        key: if public_key.is_some() {
            "given"
        } else {
            "embedded"
        },
        problems,
    })
}
