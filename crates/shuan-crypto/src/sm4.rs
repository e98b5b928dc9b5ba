//! SM4 block cipher (GB/T 32907-2016): 128-bit block, 128-bit key, 32 rounds.
//!
//! [`Sm4`] holds the expanded round keys (zeroized on drop) and encrypts single blocks
//! portably. Bulk modes (CTR, GCM, …) live in [`crate::modes`] and use the vectorised
//! implementation in `crate::simd` when the CPU supports it.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// The SM4 S-box (GB/T 32907-2016 §6.2).
pub(crate) const SBOX: [u8; 256] = [
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
    0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
    0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
    0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
    0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
    0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
    0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
    0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
    0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
    0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
    0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
    0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
    0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
    0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
    0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
    0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
];

/// System parameter FK (GB/T 32907-2016 §7.3).
const FK: [u32; 4] = [0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc];

/// Constant CK_i: byte j of CK_i is (4i + j) * 7 mod 256.
const fn ck(i: usize) -> u32 {
    let mut v = 0u32;
    let mut j = 0;
    while j < 4 {
        v = (v << 8) | (((4 * i + j) * 7) % 256) as u32;
        j += 1;
    }
    v
}

/// S-box applied to each byte of a word.
///
/// Note: this portable path indexes a table by secret data. The bulk modes use the
/// constant-time vector implementation when the CPU has AES-NI; see `crate::simd`.
#[inline(always)]
fn tau(a: u32) -> u32 {
    let b = a.to_be_bytes();
    u32::from_be_bytes([
        SBOX[b[0] as usize],
        SBOX[b[1] as usize],
        SBOX[b[2] as usize],
        SBOX[b[3] as usize],
    ])
}

/// Round function's linear transform L.
#[inline(always)]
fn l_round(b: u32) -> u32 {
    b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24)
}

/// Key schedule's linear transform L'.
#[inline(always)]
fn l_key(b: u32) -> u32 {
    b ^ b.rotate_left(13) ^ b.rotate_left(23)
}

/// An SM4 key schedule. The round keys are zeroized on drop; `Debug` does not print them.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Sm4 {
    pub(crate) rk: [u32; 32],
}

impl std::fmt::Debug for Sm4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm4 { .. }")
    }
}

impl Sm4 {
    /// Expand `key` into the 32 round keys.
    pub fn new(key: &[u8; 16]) -> Self {
        let mut k = [0u32; 4];
        for (i, w) in k.iter_mut().enumerate() {
            *w = u32::from_be_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]])
                ^ FK[i];
        }
        let mut rk = [0u32; 32];
        for (i, rk_i) in rk.iter_mut().enumerate() {
            let t = k[1] ^ k[2] ^ k[3] ^ ck(i);
            let new = k[0] ^ l_key(tau(t));
            *rk_i = new;
            k = [k[1], k[2], k[3], new];
        }
        k.zeroize();
        Sm4 { rk }
    }

    /// Build from a 16-byte slice; errors if the length is not 16.
    pub fn from_slice(key: &[u8]) -> Result<Self, crate::CryptoError> {
        let k: &[u8; 16] = key
            .try_into()
            .map_err(|_| crate::CryptoError::InvalidKey("SM4 key must be 16 bytes"))?;
        Ok(Self::new(k))
    }

    /// Encrypt one block in place.
    pub fn encrypt_block(&self, block: &mut [u8; 16]) {
        crypt_portable(&self.rk, block)
    }

    /// Decrypt one block in place.
    pub fn decrypt_block(&self, block: &mut [u8; 16]) {
        let rk = self.decryption_round_keys();
        crypt_portable(&rk, block)
    }

    pub(crate) fn decryption_round_keys(&self) -> zeroize::Zeroizing<[u32; 32]> {
        let mut rk = zeroize::Zeroizing::new(self.rk);
        rk.reverse();
        rk
    }

    /// Encrypt every 16-byte block of `blocks` independently (ECB), using the
    /// vectorised constant-time implementation when the CPU supports it.
    ///
    /// # Panics
    /// If `blocks.len()` is not a multiple of 16.
    pub fn encrypt_blocks(&self, blocks: &mut [u8]) {
        crate::simd::crypt_blocks(&self.rk, blocks)
    }

    /// Decrypt every 16-byte block of `blocks` independently (ECB).
    ///
    /// # Panics
    /// If `blocks.len()` is not a multiple of 16.
    pub fn decrypt_blocks(&self, blocks: &mut [u8]) {
        crate::simd::crypt_blocks(&self.decryption_round_keys(), blocks)
    }
}

/// One block through the 32 rounds with round keys `rk` (reversed for decryption).
pub(crate) fn crypt_portable(rk: &[u32; 32], block: &mut [u8; 16]) {
    let mut x = [0u32; 4];
    for (i, w) in x.iter_mut().enumerate() {
        *w = u32::from_be_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ]);
    }
    for &k in rk.iter() {
        let t = x[1] ^ x[2] ^ x[3] ^ k;
        let new = x[0] ^ l_round(tau(t));
        x = [x[1], x[2], x[3], new];
    }
    // Output is the reversed final state (R transform).
    for i in 0..4 {
        block[4 * i..4 * i + 4].copy_from_slice(&x[3 - i].to_be_bytes());
    }
    x.zeroize();
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

    // Vectors: /work/shared/standards/test_vectors.json "sm4_block" (GB/T 32907-2016 Annex A).
    #[test]
    fn known_answer_block() {
        let key = b16("0123456789abcdeffedcba9876543210");
        let c = Sm4::new(&key);
        let mut b = key;
        c.encrypt_block(&mut b);
        assert_eq!(b, b16("681edf34d206965e86b3e94f536e4246"));
        c.decrypt_block(&mut b);
        assert_eq!(b, key);
    }

    #[test]
    fn known_answer_million_iterations() {
        let key = b16("0123456789abcdeffedcba9876543210");
        let c = Sm4::new(&key);
        let mut b = key;
        for _ in 0..1_000_000 {
            c.encrypt_block(&mut b);
        }
        assert_eq!(b, b16("595298c7c6fd271f0402f804c33d3f66"));
    }

    #[test]
    fn agrees_with_rustcrypto_sm4() {
        use ::sm4::cipher::{BlockCipherEncrypt, KeyInit};
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        };
        for _ in 0..200 {
            let key: [u8; 16] = std::array::from_fn(|_| next());
            let pt: [u8; 16] = std::array::from_fn(|_| next());
            let ours = {
                let mut b = pt;
                Sm4::new(&key).encrypt_block(&mut b);
                b
            };
            let theirs = {
                let c = ::sm4::Sm4::new(&key.into());
                let mut b = pt.into();
                c.encrypt_block(&mut b);
                <[u8; 16]>::from(b)
            };
            assert_eq!(ours, theirs);
        }
    }
}
