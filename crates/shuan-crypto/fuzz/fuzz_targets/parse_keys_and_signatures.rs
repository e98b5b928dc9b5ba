//! Arbitrary bytes as PEM keys, DER signatures and SM2 ciphertexts: errors, no panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuan_crypto::sm2::{Signature, SigningKey, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = SigningKey::from_pkcs8_pem(s);
        let _ = VerifyingKey::from_public_key_pem(s);
    }
    let _ = VerifyingKey::from_sec1_bytes(data);
    if let Ok(sig) = Signature::from_der(data) {
        let key = SigningKey::from_bytes(&[3u8; 32]).expect("valid scalar");
        let _ = key.verifying_key().verify(b"m", &sig);
    }
    let key = SigningKey::from_bytes(&[5u8; 32]).expect("valid scalar");
    let _ = key.decrypt(data);
});
