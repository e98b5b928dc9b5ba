//! Multi-lane SM3 against one-by-one SM3: the input is cut into messages (each byte
//! below 8 ends one), every message also split at a data-chosen point into two parts;
//! `digest_many` and `HmacSm3::mac_many` must equal the scalar results.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shuan_crypto::hmac::HmacSm3;
use shuan_crypto::sm3::{digest_many, sm3};

fuzz_target!(|data: &[u8]| {
    let msgs: Vec<&[u8]> = data.split(|b| *b < 8).collect();
    let parts: Vec<[&[u8]; 2]> = msgs
        .iter()
        .map(|m| {
            let cut = m.first().map_or(0, |b| *b as usize % (m.len() + 1));
            [&m[..cut], &m[cut..]]
        })
        .collect();
    let mut out = vec![[0u8; 32]; msgs.len()];
    digest_many(&parts, &mut out);
    for (m, d) in msgs.iter().zip(&out) {
        assert_eq!(*d, sm3(m));
    }
    let mac = HmacSm3::new(data.get(..data.len().min(70)).unwrap_or_default());
    mac.mac_many(&msgs, &mut out);
    for (m, t) in msgs.iter().zip(&out) {
        assert_eq!(*t, mac.mac(m));
    }
});
