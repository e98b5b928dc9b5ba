//! Arbitrary bytes as an envelope file: decryption must fail cleanly, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuan_crypto::envelope::{decrypt, Header};

fuzz_target!(|data: &[u8]| {
    let mut r = data;
    if let Ok(h) = Header::read_from(&mut r) {
        let mut out = Vec::new();
        let _ = decrypt(&h, &[7u8; 16], &mut r, &mut out);
    }
    let _ = shuan_crypto::modes::cbc_decrypt(&[1u8; 16], &[2u8; 16], data);
});
