//! SM4 modes of operation: CTR and CBC (GB/T 17964-2021, byte-compatible with
//! `openssl enc -sm4-ctr` / `-sm4-cbc`), GCM (RFC 8998 / GB/T 36624) and XTS
//! (GB/T 17964-2021 variant).
//!
//! CTR, GCM, XTS and CBC decryption run through the vectorised constant-time SM4 in
//! bulk; CBC encryption is inherently serial and uses the portable one-block code.

use ::ghash::universal_hash::UniversalHash as _;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::sm4::Sm4;
use crate::CryptoError;

/// Blocks of keystream produced per batch: large enough to fill the vector units.
const BATCH_BLOCKS: usize = 64;
const BATCH_BYTES: usize = BATCH_BLOCKS * 16;

/// How the counter block advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CounterStep {
    /// The whole 128-bit block is a big-endian counter (OpenSSL `-sm4-ctr`, GB/T 17964).
    Full128,
    /// Only the last 32 bits count, wrapping (GCM's `inc32`).
    Low32,
}

/// SM4 in counter mode as a stream cipher: XOR a keystream into data of any length,
/// across any number of calls. Encryption and decryption are the same operation.
pub struct Sm4Ctr {
    cipher: Sm4,
    counter: u128,
    step: CounterStep,
    keystream: Zeroizing<[u8; BATCH_BYTES]>,
    used: usize,
}

impl std::fmt::Debug for Sm4Ctr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm4Ctr { .. }")
    }
}

impl Sm4Ctr {
    /// CTR with a 128-bit big-endian counter starting at `iv` (as `openssl enc -sm4-ctr`).
    pub fn new(key: &[u8; 16], iv: &[u8; 16]) -> Self {
        Self::with_cipher(Sm4::new(key), iv, CounterStep::Full128)
    }

    fn with_cipher(cipher: Sm4, iv: &[u8; 16], step: CounterStep) -> Self {
        Sm4Ctr {
            cipher,
            counter: u128::from_be_bytes(*iv),
            step,
            keystream: Zeroizing::new([0u8; BATCH_BYTES]),
            used: BATCH_BYTES,
        }
    }

    fn next_counter(&mut self) -> u128 {
        let c = self.counter;
        self.counter = match self.step {
            CounterStep::Full128 => c.wrapping_add(1),
            CounterStep::Low32 => (c & !0xffff_ffffu128) | ((c as u32).wrapping_add(1) as u128),
        };
        c
    }

    fn refill(&mut self) {
        for i in 0..BATCH_BLOCKS {
            let c = self.next_counter();
            self.keystream[16 * i..16 * i + 16].copy_from_slice(&c.to_be_bytes());
        }
        self.cipher.encrypt_blocks(&mut self.keystream[..]);
        self.used = 0;
    }

    /// XOR the next `data.len()` keystream bytes into `data`.
    pub fn apply_keystream(&mut self, data: &mut [u8]) {
        let mut data = data;
        while !data.is_empty() {
            if self.used == BATCH_BYTES {
                self.refill();
            }
            let n = (BATCH_BYTES - self.used).min(data.len());
            let ks = &self.keystream[self.used..self.used + n];
            for (d, k) in data[..n].iter_mut().zip(ks) {
                *d ^= k;
            }
            self.used += n;
            data = &mut data[n..];
        }
    }
}

/// Encrypt with SM4-CBC and PKCS#7 padding, as `openssl enc -sm4-cbc` does.
pub fn cbc_encrypt(key: &[u8; 16], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let mut enc = CbcEncryptor::new(key, iv);
    let mut out = Vec::with_capacity(plaintext.len() + 16);
    enc.update(plaintext, &mut out);
    enc.finish(&mut out);
    out
}

/// Decrypt SM4-CBC and remove PKCS#7 padding.
pub fn cbc_decrypt(
    key: &[u8; 16],
    iv: &[u8; 16],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut dec = CbcDecryptor::new(key, iv);
    let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    dec.update(ciphertext, &mut out);
    dec.finish(&mut out)?;
    Ok(out)
}

/// Streaming SM4-CBC encryption with PKCS#7 padding added by [`CbcEncryptor::finish`].
pub struct CbcEncryptor {
    cipher: Sm4,
    prev: [u8; 16],
    pending: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for CbcEncryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CbcEncryptor { .. }")
    }
}

impl CbcEncryptor {
    /// Start encrypting under `key` with initial vector `iv`.
    pub fn new(key: &[u8; 16], iv: &[u8; 16]) -> Self {
        CbcEncryptor {
            cipher: Sm4::new(key),
            prev: *iv,
            pending: Zeroizing::new(Vec::with_capacity(16)),
        }
    }

    fn block(&mut self, block: &[u8], out: &mut Vec<u8>) {
        let mut b = [0u8; 16];
        for i in 0..16 {
            b[i] = block[i] ^ self.prev[i];
        }
        self.cipher.encrypt_block(&mut b);
        self.prev = b;
        out.extend_from_slice(&b);
    }

    /// Encrypt the whole blocks available so far, appending ciphertext to `out`.
    pub fn update(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            let take = (16 - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == 16 {
                let p = std::mem::take(&mut *self.pending);
                self.block(&p, out);
                let mut p = p;
                p.zeroize();
            }
        }
        let whole = data.len() / 16 * 16;
        for b in data[..whole].chunks_exact(16) {
            self.block(b, out);
        }
        self.pending.extend_from_slice(&data[whole..]);
    }

    /// Pad (PKCS#7: 1–16 bytes of value n) and encrypt the last block.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        let n = 16 - self.pending.len();
        let mut last = [n as u8; 16];
        last[..self.pending.len()].copy_from_slice(&self.pending);
        self.block(&last, out);
        last.zeroize();
    }
}

/// Streaming SM4-CBC decryption; [`CbcDecryptor::finish`] checks and strips the padding.
pub struct CbcDecryptor {
    rk: Zeroizing<[u32; 32]>,
    prev: [u8; 16],
    /// Ciphertext not yet decrypted: a partial block, or the last whole block (held
    /// back because it carries the padding).
    pending: Vec<u8>,
}

impl std::fmt::Debug for CbcDecryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CbcDecryptor { .. }")
    }
}

impl CbcDecryptor {
    /// Start decrypting under `key` with initial vector `iv`.
    pub fn new(key: &[u8; 16], iv: &[u8; 16]) -> Self {
        CbcDecryptor {
            rk: Sm4::new(key).decryption_round_keys(),
            prev: *iv,
            pending: Vec::new(),
        }
    }

    fn decrypt_run(&mut self, ct: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(ct);
        crate::simd::crypt_blocks(&self.rk, &mut out[start..]);
        for (i, b) in out[start..].chunks_exact_mut(16).enumerate() {
            let prev: &[u8] = if i == 0 {
                &self.prev
            } else {
                &ct[16 * (i - 1)..16 * i]
            };
            for j in 0..16 {
                b[j] ^= prev[j];
            }
        }
        self.prev.copy_from_slice(&ct[ct.len() - 16..]);
    }

    /// Decrypt what can be decrypted, keeping the last block back for `finish`.
    pub fn update(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.pending.extend_from_slice(data);
        if self.pending.len() <= 16 {
            return;
        }
        // Keep at least one whole block (possibly the padding block) and any partial one.
        let keep = match self.pending.len() % 16 {
            0 => 16,
            r => r,
        };
        let ready = self.pending.len() - keep;
        let ct: Vec<u8> = self.pending.drain(..ready).collect();
        self.decrypt_run(&ct, out);
    }

    /// Decrypt the last block and remove its padding.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if self.pending.len() != 16 {
            return Err(CryptoError::InvalidLength(
                "SM4-CBC ciphertext is not a non-zero multiple of 16 bytes".into(),
            ));
        }
        let ct = std::mem::take(&mut self.pending);
        let start = out.len();
        self.decrypt_run(&ct, out);
        let n = out[out.len() - 1] as usize;
        let pad_ok = (1..=16).contains(&n) && out[out.len() - n..].iter().all(|&b| b as usize == n);
        if !pad_ok {
            out[start..].zeroize();
            out.truncate(start);
            return Err(CryptoError::BadPadding);
        }
        out.truncate(out.len() - n);
        Ok(())
    }
}

/// SM4-GCM (RFC 8998, GB/T 36624-2018) with 96-bit nonces and 128-bit tags.
pub struct Sm4Gcm {
    cipher: Sm4,
    h: Zeroizing<[u8; 16]>,
}

impl std::fmt::Debug for Sm4Gcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm4Gcm { .. }")
    }
}

/// GCM tag length in bytes.
pub const GCM_TAG_LEN: usize = 16;
/// GCM nonce length in bytes.
pub const GCM_NONCE_LEN: usize = 12;

impl Sm4Gcm {
    /// GCM under `key`.
    pub fn new(key: &[u8; 16]) -> Self {
        let cipher = Sm4::new(key);
        let mut h = Zeroizing::new([0u8; 16]);
        cipher.encrypt_block(&mut h);
        Sm4Gcm { cipher, h }
    }

    fn j0(nonce: &[u8; 12]) -> [u8; 16] {
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
        j0
    }

    fn tag(&self, nonce: &[u8; 12], aad: &[u8], ct: &[u8]) -> [u8; 16] {
        let mut gh = ::ghash::GHash::new(&(*self.h).into());
        gh.update_padded(aad);
        gh.update_padded(ct);
        let mut lens = [0u8; 16];
        lens[..8].copy_from_slice(&((aad.len() as u64) * 8).to_be_bytes());
        lens[8..].copy_from_slice(&((ct.len() as u64) * 8).to_be_bytes());
        gh.update(&[lens.into()]);
        let s: [u8; 16] = gh.finalize().into();
        let mut ek = Self::j0(nonce);
        self.cipher.encrypt_block(&mut ek);
        let mut tag = [0u8; 16];
        for i in 0..16 {
            tag[i] = s[i] ^ ek[i];
        }
        tag
    }

    fn ctr(&self, nonce: &[u8; 12]) -> Sm4Ctr {
        let mut c1 = Self::j0(nonce);
        c1[15] = 2;
        Sm4Ctr::with_cipher(self.cipher.clone(), &c1, CounterStep::Low32)
    }

    /// Encrypt `buf` in place and return the tag over `aad` and the ciphertext.
    pub fn encrypt(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        self.ctr(nonce).apply_keystream(buf);
        self.tag(nonce, aad, buf)
    }

    /// Check `tag` first, then decrypt `buf` in place. On failure `buf` is untouched.
    pub fn decrypt(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        let expected = self.tag(nonce, aad, buf);
        if !bool::from(expected.ct_eq(tag)) {
            return Err(CryptoError::AuthenticationFailed);
        }
        self.ctr(nonce).apply_keystream(buf);
        Ok(())
    }
}

/// Multiply the XTS tweak by α as GB/T 17964-2021 specifies: the 128-bit value is read
/// with the bit order of GCM (first bit = coefficient of x⁰), so doubling is a right
/// shift with reduction constant 0xE1 into the first byte. IEEE 1619 instead shifts
/// little-endian with 0x87; the two agree only for the first block.
fn xts_gb_double(t: &mut [u8; 16]) {
    let v = u128::from_be_bytes(*t);
    let carry = v & 1;
    let v = (v >> 1) ^ (if carry == 1 { 0xe1u128 << 120 } else { 0 });
    *t = v.to_be_bytes();
}

/// SM4-XTS per GB/T 17964-2021 (ciphertext stealing for a partial last block).
pub struct Sm4Xts {
    data: Sm4,
    tweak: Sm4,
}

impl std::fmt::Debug for Sm4Xts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm4Xts { .. }")
    }
}

impl Sm4Xts {
    /// `key` is the data key ‖ tweak key (32 bytes). The two halves must differ.
    pub fn new(key: &[u8; 32]) -> Result<Self, CryptoError> {
        if bool::from(key[..16].ct_eq(&key[16..])) {
            return Err(CryptoError::InvalidKey(
                "SM4-XTS data and tweak keys must differ",
            ));
        }
        let k1: [u8; 16] = key[..16].try_into().expect("16 bytes");
        let k2: [u8; 16] = key[16..].try_into().expect("16 bytes");
        Ok(Sm4Xts {
            data: Sm4::new(&k1),
            tweak: Sm4::new(&k2),
        })
    }

    fn tweaks(&self, iv: &[u8; 16], n: usize) -> Vec<u8> {
        let mut t = *iv;
        self.tweak.encrypt_block(&mut t);
        let mut out = Vec::with_capacity(n * 16);
        for _ in 0..n {
            out.extend_from_slice(&t);
            xts_gb_double(&mut t);
        }
        out
    }

    fn xex(&self, blocks: &mut [u8], tweaks: &[u8], decrypt: bool) {
        for (b, t) in blocks.iter_mut().zip(tweaks) {
            *b ^= t;
        }
        if decrypt {
            self.data.decrypt_blocks(blocks);
        } else {
            self.data.encrypt_blocks(blocks);
        }
        for (b, t) in blocks.iter_mut().zip(tweaks) {
            *b ^= t;
        }
    }

    /// Encrypt one data unit (at least 16 bytes) in place under tweak value `iv`.
    pub fn encrypt(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
        self.crypt(iv, data, false)
    }

    /// Decrypt one data unit (at least 16 bytes) in place under tweak value `iv`.
    pub fn decrypt(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
        self.crypt(iv, data, true)
    }

    fn crypt(&self, iv: &[u8; 16], data: &mut [u8], decrypt: bool) -> Result<(), CryptoError> {
        if data.len() < 16 {
            return Err(CryptoError::InvalidLength(
                "SM4-XTS needs at least one 16-byte block".into(),
            ));
        }
        let full = data.len() / 16;
        let rem = data.len() % 16;
        let tweaks = self.tweaks(iv, full + 1);
        if rem == 0 {
            self.xex(data, &tweaks[..full * 16], decrypt);
            return Ok(());
        }
        // Ciphertext stealing over the last full block m = full-1 and the partial one.
        let m = full - 1;
        let (t_m, t_last) = (
            &tweaks[m * 16..m * 16 + 16],
            &tweaks[full * 16..full * 16 + 16],
        );
        self.xex(&mut data[..m * 16], &tweaks[..m * 16], decrypt);
        let mut pp = [0u8; 16];
        pp.copy_from_slice(&data[m * 16..m * 16 + 16]);
        // Encrypting, block m uses tweak m and the stolen block the last tweak; decrypting
        // reverses the order of the two.
        let (first_t, second_t) = if decrypt {
            (t_last, t_m)
        } else {
            (t_m, t_last)
        };
        self.xex(&mut pp, first_t, decrypt);
        let mut last = [0u8; 16];
        last[..rem].copy_from_slice(&data[full * 16..]);
        last[rem..].copy_from_slice(&pp[rem..]);
        self.xex(&mut last, second_t, decrypt);
        data[full * 16..].copy_from_slice(&pp[..rem]);
        data[m * 16..m * 16 + 16].copy_from_slice(&last);
        pp.zeroize();
        last.zeroize();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        crate::hex::decode(s).unwrap()
    }
    fn b16(s: &str) -> [u8; 16] {
        unhex(s).try_into().unwrap()
    }

    // Vectors: /work/shared/standards/test_vectors.json "sm4_modes_gbt17964_2021".
    const K: &str = "2b7e151628aed2a6abf7158809cf4f3c";
    const P: &str = "6bc1bee22e409f96e93d7e117393172a";

    #[test]
    fn gbt17964_ecb_cbc_ctr() {
        let mut b = b16(P);
        Sm4::new(&b16(K)).encrypt_block(&mut b);
        assert_eq!(b, b16("a51411ff04a711443891fce7ab842a29"));

        let ct = cbc_encrypt(&b16(K), &b16("000102030405060708090a0b0c0d0e0f"), &unhex(P));
        assert_eq!(ct[..16], unhex("ac529af989a62fce9cddc5ffb84125ca"));
        assert_eq!(ct.len(), 32, "a full padding block follows");

        let mut d = unhex(P);
        Sm4Ctr::new(&b16(K), &b16("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")).apply_keystream(&mut d);
        assert_eq!(d, unhex("14ae4a72b97a93ce1216ccd998e371c1"));
    }

    // "sm4_modes_draft_ribose_cfrg_sm4_appendix_a2": multi-block ECB and CBC.
    #[test]
    fn ribose_ecb_cbc() {
        let pt = unhex("aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffffaaaaaaaabbbbbbbb");
        for (key, ecb, cbc) in [
            (
                "0123456789abcdeffedcba9876543210",
                "5ec8143de509cff7b5179f8f474b86192f1d305a7fb17df985f81c8482192304",
                "78ebb11cc40b0a48312aaeb2040244cb4cb7016951909226979b0d15dc6a8f6d",
            ),
            (
                "fedcba98765432100123456789abcdef",
                "c5876897e4a59bbba72a10c83872245b12dd90bc2d200692b529a4155ac9e600",
                "0d3a6ddc2d21c698857215587b7bb59a91f2c147911a4144665e1fa1d40bae38",
            ),
        ] {
            let mut e = pt.clone();
            Sm4::new(&b16(key)).encrypt_blocks(&mut e);
            assert_eq!(e, unhex(ecb));
            let iv = b16("000102030405060708090a0b0c0d0e0f");
            let c = cbc_encrypt(&b16(key), &iv, &pt);
            assert_eq!(c[..32], unhex(cbc)[..]);
            assert_eq!(&cbc_decrypt(&b16(key), &iv, &c).unwrap()[..], &pt[..]);
        }
    }

    // "sm4_gcm": RFC 8998 A.1 and GB/T 36624-2018 C.5.
    #[test]
    fn gcm_known_answers() {
        let g = Sm4Gcm::new(&b16("0123456789abcdeffedcba9876543210"));
        let nonce: [u8; 12] = unhex("00001234567800000000abcd").try_into().unwrap();
        let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = unhex("aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa");
        let mut buf = pt.clone();
        let tag = g.encrypt(&nonce, &aad, &mut buf);
        assert_eq!(buf, unhex("17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"));
        assert_eq!(tag, b16("83de3541e4c2b58177e065a9bf7b62ec"));
        let mut bad = tag;
        bad[0] ^= 1;
        let ct = buf.clone();
        assert!(g.decrypt(&nonce, &aad, &mut buf, &bad).is_err());
        assert_eq!(buf, ct, "failed decryption leaves the buffer alone");
        g.decrypt(&nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(buf, pt);

        let z = Sm4Gcm::new(&[0u8; 16]);
        assert_eq!(
            z.encrypt(&[0u8; 12], b"", &mut []),
            b16("232f0cfe308b49ea6fc88229b5dc858d")
        );
        let mut one = [0u8; 16];
        let tag = z.encrypt(&[0u8; 12], b"", &mut one);
        assert_eq!(one, b16("7de2aa7f1110188218063be1bfeb6d89"));
        assert_eq!(tag, b16("b851b5f39493752be508f1bb4482c557"));
    }

    #[test]
    fn xts_gbt17964_variant() {
        let key: [u8; 32] =
            unhex("2b7e151628aed2a6abf7158809cf4f3c000102030405060708090a0b0c0d0e0f")
                .try_into()
                .unwrap();
        let iv = b16("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        let pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17");
        let x = Sm4Xts::new(&key).unwrap();
        let mut d = pt.clone();
        x.encrypt(&iv, &mut d).unwrap();
        assert_eq!(d, unhex("e9538251c71d7b80bbe4483fef497bd12c5c581bd6242fc51e08964fb4f60fdb0ba42f63499279213d318d2c11f6886e903be7f93a1b3479"));
        x.decrypt(&iv, &mut d).unwrap();
        assert_eq!(d, pt);
        for len in [16usize, 17, 31, 32, 33, 100] {
            let mut d: Vec<u8> = (0..len as u8).collect();
            x.encrypt(&iv, &mut d).unwrap();
            x.decrypt(&iv, &mut d).unwrap();
            assert_eq!(d, (0..len as u8).collect::<Vec<_>>());
        }
        assert!(x.encrypt(&iv, &mut [0u8; 15]).is_err());
    }

    #[test]
    fn ctr_streaming_equals_one_shot_and_gcm_counter_wraps_32_bits() {
        let key = [7u8; 16];
        let iv = [0xffu8; 16];
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut one = data.clone();
        Sm4Ctr::new(&key, &iv).apply_keystream(&mut one);
        let mut parts = data.clone();
        let mut c = Sm4Ctr::new(&key, &iv);
        for chunk in parts.chunks_mut(333) {
            c.apply_keystream(chunk);
        }
        assert_eq!(one, parts);
        // The 128-bit counter wraps from all-ones to zero: block 1 is E(0).
        let mut z = [0u8; 16];
        Sm4::new(&key).encrypt_block(&mut z);
        let ks1: Vec<u8> = one[16..32]
            .iter()
            .zip(&data[16..32])
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(ks1, z);
        let mut step = Sm4Ctr::with_cipher(Sm4::new(&key), &iv, CounterStep::Low32);
        assert_eq!(step.next_counter(), u128::MAX);
        assert_eq!(step.next_counter(), u128::MAX << 32);
    }

    #[test]
    fn cbc_streaming_and_errors() {
        let key = [3u8; 16];
        let iv = [9u8; 16];
        for len in [0usize, 1, 15, 16, 17, 1000] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
            let ct = cbc_encrypt(&key, &iv, &pt);
            assert_eq!(ct.len(), (len / 16 + 1) * 16);
            let mut dec = CbcDecryptor::new(&key, &iv);
            let mut out = Vec::new();
            for c in ct.chunks(7) {
                dec.update(c, &mut out);
            }
            dec.finish(&mut out).unwrap();
            assert_eq!(out, pt);
        }
        let ct = cbc_encrypt(&key, &iv, b"hello");
        assert!(matches!(
            cbc_decrypt(&[4u8; 16], &iv, &ct),
            Err(CryptoError::BadPadding)
        ));
        assert!(cbc_decrypt(&key, &iv, &ct[..15]).is_err());
        assert!(cbc_decrypt(&key, &iv, &[]).is_err());
    }
}
