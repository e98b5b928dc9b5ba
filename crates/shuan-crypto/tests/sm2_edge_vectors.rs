//! SM2 verifier edge cases (safety review, issue 10 item 8): out-of-range r and s, r + s
//! = n, the point at infinity and points off the curve as public keys. The cases are data
//! (`tests/vectors/sm2_verify_edge.json`); each must be refused at the step the vector
//! names, by both the fast verifier and the RustCrypto reference, and none may panic.

use shuan_crypto::sm2::{Signature, VerifyingKey};
use shuan_crypto::CryptoError;

fn unhex(s: &str) -> Vec<u8> {
    shuan_crypto::hex::decode(s).unwrap_or_else(|e| panic!("vector {s}: {e}"))
}

/// Big-endian hex of any width (vectors write r and s without a fixed width).
fn integer(hex: &str) -> Vec<u8> {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_string()
    };
    let bytes = unhex(&padded);
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

/// DER INTEGER of the unsigned big-endian `magnitude` (minimal, with a 0x00 before a high bit).
fn der_integer(magnitude: &[u8]) -> Vec<u8> {
    let mut content = if magnitude.is_empty() {
        vec![0]
    } else {
        magnitude.to_vec()
    };
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    let mut out = vec![0x02, content.len() as u8];
    out.extend(content);
    out
}

fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let body = [der_integer(r), der_integer(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// `r ‖ s` as 64 bytes, when both fit in 32 bytes.
fn raw_signature(r: &[u8], s: &[u8]) -> Option<Vec<u8>> {
    if r.len() > 32 || s.len() > 32 {
        return None;
    }
    let mut out = vec![0u8; 64];
    out[32 - r.len()..32].copy_from_slice(r);
    out[64 - s.len()..].copy_from_slice(s);
    Some(out)
}

#[test]
fn sm2_verifier_edge_vectors_are_each_rejected() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("vectors/sm2_verify_edge.json")).unwrap();
    let e: [u8; 32] = unhex(doc["e"].as_str().unwrap()).try_into().unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 15);
    let mut seen = std::collections::BTreeSet::new();
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let expect = v["expect"].as_str().unwrap();
        seen.insert(expect.to_string());
        let key = VerifyingKey::from_sec1_bytes(&unhex(v["public_key"].as_str().unwrap()));
        if expect == "invalid_public_key" {
            assert!(
                matches!(key, Err(CryptoError::InvalidKey(_))),
                "{name}: public key accepted"
            );
            continue;
        }
        let key = key.unwrap_or_else(|err| panic!("{name}: {err}"));
        let r = integer(v["r"].as_str().unwrap());
        let s = integer(v["s"].as_str().unwrap());
        let der = Signature::from_der(&der_signature(&r, &s));
        let raw = raw_signature(&r, &s).map(|b| Signature::from_bytes(&b));
        if expect == "invalid_signature" {
            assert!(
                matches!(der, Err(CryptoError::MalformedSignature)),
                "{name}: DER form accepted"
            );
            if let Some(raw) = raw {
                assert!(
                    matches!(raw, Err(CryptoError::MalformedSignature)),
                    "{name}: raw r||s accepted"
                );
            }
            continue;
        }
        let der = der.unwrap_or_else(|err| panic!("{name}: DER refused: {err}"));
        if let Some(raw) = raw {
            assert_eq!(raw.unwrap(), der, "{name}: raw and DER parse alike");
        }
        let fast = key.verify_digest(&e, &der);
        let reference = key.verify_digest_reference(&e, &der);
        match expect {
            "valid" => {
                fast.unwrap_or_else(|err| panic!("{name}: {err}"));
                reference.unwrap_or_else(|err| panic!("{name}: reference: {err}"));
            }
            "bad_signature" => {
                assert!(matches!(fast, Err(CryptoError::BadSignature)), "{name}");
                assert!(
                    matches!(reference, Err(CryptoError::BadSignature)),
                    "{name}: reference"
                );
            }
            other => panic!("{name}: unknown expectation {other}"),
        }
    }
    let kinds: Vec<_> = seen.into_iter().collect();
    assert_eq!(
        kinds,
        [
            "bad_signature",
            "invalid_public_key",
            "invalid_signature",
            "valid"
        ]
    );
}
