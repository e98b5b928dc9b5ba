//! The destruction certificate (销毁证明): one self-contained JSON document (format
//! [`CERTIFICATE_FORMAT`]) saying what was destroyed, why, on whose request and approval,
//! by whom, how, and how it was verified afterwards — signed by the node.
//!
//! - `body`: the facts (any JSON object; the server writes [`CertificateBody`]);
//! - `sm3`: SM3 of the body's canonical form (object keys sorted by their UTF-8 bytes, no
//!   whitespace, strings escaped as JSON does) — so re-indenting or reordering keys of
//!   the file does not break it, but changing any value does;
//! - `signature`: SM2 signature (DER, hex) by the node key over the canonical body with the
//!   default user ID; `public_key` (PEM) and `signer` (SM3 of its SEC1 bytes);
//! - `ledger`: the node's ledger id and the sequence number of the `destruction.certify`
//!   record whose details hold the same `sm3`, written before the certificate was given.
//!
//! The embedded key proves only that the body is unchanged since it was signed; which
//! node signed is proven against a copy of its public key kept elsewhere (`--public-key`)
//! or by the ledger record.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};

/// The `format` of a certificate.
pub const CERTIFICATE_FORMAT: &str = "shuan-destruction-certificate/1";

/// Why a certificate could not be read or checked at all (as opposed to checked and
/// found invalid, which is a [`Verification`] with problems).
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// Not a certificate: not JSON, fields missing, another format.
    #[error("not a destruction certificate: {0}")]
    Malformed(String),
    /// The embedded public key cannot be read.
    #[error("the certificate's public key: {0}")]
    Key(String),
}

/// Where the certificate's digest is anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerAnchor {
    /// The node's ledger id.
    pub id: String,
    /// Sequence number of the `destruction.certify` record holding the digest.
    pub seq: u64,
}

/// How the data was checked to be gone after it was destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    /// What was checked (`key_unreadable`, `no_matching_rows`, `table_absent`).
    pub check: String,
    /// Whether it held (a certificate is only issued when it did).
    pub passed: bool,
    /// What was seen, in Chinese and English.
    pub detail: String,
}

/// The facts a certificate states. Times are UTC RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateBody {
    /// The destruction's id on the platform.
    pub destruction_id: i64,
    /// The signing node's ledger id.
    pub node: String,
    /// The department whose data it was (none for a key).
    pub department: Option<String>,
    /// The target, as requested.
    pub target: crate::Target,
    /// The target in Chinese.
    pub target_label: String,
    /// Method id.
    pub method: String,
    /// Method in Chinese.
    pub method_label: String,
    /// Why (销毁原因).
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: String,
    /// The chief data officer who approved.
    pub approved_by: String,
    /// When.
    pub approved_at: String,
    /// The approval's note.
    pub approval_note: Option<String>,
    /// Who executed.
    pub executed_by: String,
    /// When the destruction was verified complete.
    pub executed_at: String,
    /// What was destroyed (rows deleted, versions shredded, the table dropped).
    pub destroyed: Value,
    /// The check afterwards.
    pub verification: VerificationRecord,
}

/// A destruction certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// [`CERTIFICATE_FORMAT`].
    pub format: String,
    /// The facts (signed).
    pub body: Value,
    /// SM3 of the canonical body, hex.
    pub sm3: String,
    /// `sm2-sm3`.
    pub algorithm: String,
    /// SM2 signature over the canonical body (default user ID), DER, hex.
    pub signature: String,
    /// The signer's public key, PEM.
    pub public_key: String,
    /// SM3 of the signer's SEC1 public key, hex.
    pub signer: String,
    /// The ledger record anchoring the digest.
    pub ledger: LedgerAnchor,
}

/// The canonical bytes of a JSON value: object keys sorted (by UTF-8 bytes), no
/// whitespace, strings and numbers as `serde_json` writes them.
pub fn canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(
                    serde_json::to_string(k)
                        .expect("a string serialises")
                        .as_bytes(),
                );
                out.push(b':');
                write_canonical(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(
            serde_json::to_string(scalar)
                .expect("a scalar serialises")
                .as_bytes(),
        ),
    }
}

/// SM3 of the canonical form of `body`, hex: the digest the ledger record holds.
pub fn body_digest(body: &Value) -> String {
    shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(&canonical(body)))
}

impl Certificate {
    /// Signs `body` with the node key; its digest ([`body_digest`]) is in the ledger record
    /// `ledger`.
    pub fn sign(body: Value, key: &SigningKey, ledger: LedgerAnchor) -> Certificate {
        let bytes = canonical(&body);
        let vk = key.verifying_key();
        Certificate {
            format: CERTIFICATE_FORMAT.to_string(),
            sm3: shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(&bytes)),
            body,
            algorithm: "sm2-sm3".to_string(),
            signature: shuan_crypto::hex::encode(&key.sign(&bytes).to_der()),
            public_key: vk.to_public_key_pem(),
            signer: shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(&vk.to_sec1_bytes())),
            ledger,
        }
    }

    /// Parses a certificate file.
    pub fn parse(text: &str) -> Result<Certificate, CertificateError> {
        let c: Certificate =
            serde_json::from_str(text).map_err(|e| CertificateError::Malformed(e.to_string()))?;
        if c.format != CERTIFICATE_FORMAT {
            return Err(CertificateError::Malformed(format!(
                "format `{}`, expected `{CERTIFICATE_FORMAT}`",
                c.format.chars().take(60).collect::<String>()
            )));
        }
        if !c.body.is_object() {
            return Err(CertificateError::Malformed(
                "`body` is not a JSON object".into(),
            ));
        }
        Ok(c)
    }

    /// As written to a file: indented, a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a certificate serialises");
        s.push('\n');
        s
    }

    /// The destruction's id, when the body states one.
    pub fn destruction_id(&self) -> Option<i64> {
        self.body.get("destruction_id").and_then(Value::as_i64)
    }
}

/// The result of checking a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Every check passed.
    pub valid: bool,
    /// SM3 of the canonical body now.
    pub sm3: String,
    /// Which key the signature was checked with: `given` or `embedded`.
    pub key: &'static str,
    /// What failed (English), empty when valid.
    pub problems: Vec<String>,
}

/// Checks a certificate: the body's digest against `sm3`, the SM2 signature with
/// `public_key` (else the embedded key), that the embedded key is that key, and that the
/// body says its verification passed.
pub fn verify(
    cert: &Certificate,
    public_key: Option<&VerifyingKey>,
) -> Result<Verification, CertificateError> {
    let embedded = VerifyingKey::from_public_key_pem(&cert.public_key)
        .map_err(|e| CertificateError::Key(e.to_string()))?;
    let bytes = canonical(&cert.body);
    let now = shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(&bytes));
    let mut problems = Vec::new();
    if now != cert.sm3 {
        problems.push(format!(
            "the body's SM3 {now} differs from the signed {}: the certificate was changed",
            cert.sm3
        ));
    }
    let key = match public_key {
        Some(k) => {
            if *k != embedded {
                problems.push(
                    "the certificate's embedded key is not the given public key: signed by another node"
                        .to_string(),
                );
            }
            k
        }
        None => &embedded,
    };
    let signature_ok = shuan_crypto::hex::decode(&cert.signature)
        .ok()
        .and_then(|der| Signature::from_der(&der).ok())
        .is_some_and(|s| key.verify(&bytes, &s).is_ok());
    if !signature_ok {
        problems.push("the SM2 signature does not verify over the body".to_string());
    }
    let passed = cert
        .body
        .pointer("/verification/passed")
        .and_then(Value::as_bool);
    if passed != Some(true) {
        problems.push("the body does not state a passed verification".to_string());
    }
    if cert.algorithm != "sm2-sm3" {
        problems.push(format!("unknown algorithm `{}`", cert.algorithm));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> Value {
        json!({
            "destruction_id": 3,
            "target": {"kind": "key_version", "key": "mask", "version": 1},
            "reason": "到期销毁 \"引号\" \u{1} 控制符",
            "verification": {"check": "key_unreadable", "passed": true, "detail": "x"},
            "destroyed": {"versions": [1]},
        })
    }

    fn signed() -> (Certificate, SigningKey) {
        let key = SigningKey::generate();
        let c = Certificate::sign(
            body(),
            &key,
            LedgerAnchor {
                id: "node-a".into(),
                seq: 42,
            },
        );
        (c, key)
    }

    #[test]
    fn canonical_form_sorts_keys_at_every_depth_and_ignores_layout() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": null}}"#)
                .unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            String::from_utf8(canonical(&a)).unwrap(),
            r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#
        );
        // Array order is meaning, not layout.
        let c: Value =
            serde_json::from_str(r#"{"a":{"x":null,"y":[{"c":3,"d":2},1]},"b":1}"#).unwrap();
        assert_ne!(canonical(&a), canonical(&c));
    }

    #[test]
    fn a_signed_certificate_verifies_after_a_round_trip_through_its_file() {
        let (c, key) = signed();
        let text = c.to_json();
        let parsed = Certificate::parse(&text).unwrap();
        assert_eq!(parsed.destruction_id(), Some(3));
        let v = verify(&parsed, None).unwrap();
        assert!(v.valid, "{:?}", v.problems);
        assert_eq!(v.key, "embedded");
        let v = verify(&parsed, Some(&key.verifying_key())).unwrap();
        assert!(v.valid && v.key == "given");
        // Reindented and reordered: still the same body.
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        let body = doc["body"].take();
        let reordered: serde_json::Map<String, Value> = body
            .as_object()
            .unwrap()
            .iter()
            .rev()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        doc["body"] = Value::Object(reordered);
        let again = Certificate::parse(&serde_json::to_string(&doc).unwrap()).unwrap();
        assert!(verify(&again, None).unwrap().valid);
    }

    #[test]
    fn any_change_to_the_body_or_signature_is_found() {
        let (c, key) = signed();
        let mut changed = c.clone();
        changed.body["destroyed"]["versions"] = json!([2]);
        let v = verify(&changed, None).unwrap();
        assert!(!v.valid);
        assert!(v.problems[0].contains("was changed"), "{:?}", v.problems);
        // A forger who recomputes the digest still lacks the key.
        changed.sm3 = body_digest(&changed.body);
        let v = verify(&changed, None).unwrap();
        assert!(!v.valid);
        assert!(
            v.problems.iter().any(|p| p.contains("SM2 signature")),
            "{:?}",
            v.problems
        );
        // Re-signed with another key: valid alone, refused against the node's key.
        let other = SigningKey::generate();
        let forged = Certificate::sign(changed.body.clone(), &other, c.ledger.clone());
        assert!(verify(&forged, None).unwrap().valid);
        let v = verify(&forged, Some(&key.verifying_key())).unwrap();
        assert!(!v.valid);
        assert!(
            v.problems.iter().any(|p| p.contains("another node")),
            "{:?}",
            v.problems
        );
        // A body that does not state a passed verification is never valid.
        let mut b = body();
        b["verification"]["passed"] = json!(false);
        let unverified = Certificate::sign(b, &key, c.ledger.clone());
        assert!(!verify(&unverified, None).unwrap().valid);
        // A garbled signature is a problem, not an error.
        let mut garbled = c.clone();
        garbled.signature = "zz".into();
        assert!(!verify(&garbled, None).unwrap().valid);
    }

    #[test]
    fn what_is_not_a_certificate_is_refused_with_the_reason() {
        for text in ["", "{}", "[1]", r#"{"format":"shuan-report-sig/1"}"#] {
            assert!(Certificate::parse(text).is_err(), "{text}");
        }
        let (c, _) = signed();
        let mut doc: Value = serde_json::to_value(&c).unwrap();
        doc["format"] = json!("other/1");
        let e = Certificate::parse(&doc.to_string()).unwrap_err();
        assert!(e
            .to_string()
            .contains("expected `shuan-destruction-certificate/1`"));
        doc["format"] = json!(CERTIFICATE_FORMAT);
        doc["body"] = json!("text");
        assert!(Certificate::parse(&doc.to_string()).is_err());
        let mut bad_key = c.clone();
        bad_key.public_key = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into();
        assert!(verify(&bad_key, None).is_err());
    }
}
