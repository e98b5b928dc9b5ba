//! HMAC-SM3 (GB/T 15852.2-2012 / RFC 2104 with SM3 and a 64-byte block).

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::sm3::{Sm3, BLOCK_LEN};

/// Incremental HMAC-SM3. The SM3 states after absorbing the key's inner and outer pad
/// blocks are computed once by [`HmacSm3::new`]; a clone per message then costs the
/// message's blocks plus one outer block, not two more pad compressions (masking MACs
/// millions of short values under one key). The key-derived states are zeroized on drop.
#[derive(Clone)]
pub struct HmacSm3 {
    inner: Sm3,
    outer: Sm3,
}

impl std::fmt::Debug for HmacSm3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacSm3 { .. }")
    }
}

impl HmacSm3 {
    /// A MAC keyed with `key` (any length; keys longer than 64 bytes are hashed first).
    pub fn new(key: &[u8]) -> Self {
        let mut k = Zeroizing::new([0u8; BLOCK_LEN]);
        if key.len() > BLOCK_LEN {
            let mut d = crate::sm3::sm3(key);
            k[..32].copy_from_slice(&d);
            d.zeroize();
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut ipad = Zeroizing::new([0u8; BLOCK_LEN]);
        let mut opad = Zeroizing::new([0u8; BLOCK_LEN]);
        for i in 0..BLOCK_LEN {
            ipad[i] = k[i] ^ 0x36;
            opad[i] = k[i] ^ 0x5c;
        }
        let mut inner = Sm3::new();
        inner.update(&ipad[..]);
        let mut outer = Sm3::new();
        outer.update(&opad[..]);
        HmacSm3 { inner, outer }
    }

    /// Absorb `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Finish and return the 32-byte tag.
    pub fn finalize(self) -> [u8; 32] {
        let HmacSm3 { inner, mut outer } = self;
        let mut digest = Zeroizing::new(inner.finalize());
        outer.update(&digest[..]);
        let tag = outer.finalize();
        digest.zeroize();
        tag
    }

    /// The tag of `msg` under this key, leaving `self` ready for the next message: the
    /// same as `clone`, `update(msg)`, `finalize`, with no hasher copied for messages
    /// that fit in one block after the pad (≤ 55 bytes).
    pub fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.digest_with(msg);
        let tag = self.outer.digest_with(&inner);
        inner.zeroize();
        tag
    }

    /// The tags of many messages under this key (as [`HmacSm3::mac`] one by one),
    /// computed side by side in vector lanes where the CPU allows (see
    /// [`crate::sm3::digest_many`]): several times faster for short values, which is what
    /// masking pseudonymizes. `out` must be as long as `msgs`.
    pub fn mac_many(&self, msgs: &[&[u8]], out: &mut [[u8; 32]]) {
        assert_eq!(msgs.len(), out.len(), "one tag per message");
        // The inner digests are secret-derived: held zeroized-on-drop.
        let mut inner = Zeroizing::new(vec![[0u8; 32]; msgs.len()]);
        self.inner.digest_many_with(msgs, &mut inner);
        let refs: Vec<&[u8]> = inner.iter().map(|d| &d[..]).collect();
        self.outer.digest_many_with(&refs, out);
    }

    /// Finish and compare with `expected` in constant time.
    pub fn verify(self, expected: &[u8]) -> Result<(), crate::CryptoError> {
        let tag = self.finalize();
        if tag.ct_eq(expected).into() {
            Ok(())
        } else {
            Err(crate::CryptoError::AuthenticationFailed)
        }
    }
}

/// HMAC-SM3 of `msg` under `key` in one call.
pub fn hmac_sm3(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = HmacSm3::new(key);
    m.update(msg);
    m.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::hex::encode as hex;

    // Vector: /work/shared/standards/test_vectors.json "hmac_sm3".
    #[test]
    fn known_answer() {
        assert_eq!(
            hex(&hmac_sm3(b"key", b"message")),
            "34c90b291a80b7fd7f2be43d683935bab9d149164666c4ef8857c815cf2ef832"
        );
    }

    #[test]
    fn mac_many_equals_rfc2104() {
        for key in [&b"k"[..], &[7u8; 64][..], &[9u8; 100][..]] {
            let m = HmacSm3::new(key);
            let msgs: Vec<Vec<u8>> = (0..70usize)
                .map(|i| (0..(i * 5) % 130).map(|j| (i * 31 + j) as u8).collect())
                .collect();
            let refs: Vec<&[u8]> = msgs.iter().map(|v| v.as_slice()).collect();
            let mut out = vec![[0u8; 32]; refs.len()];
            m.mac_many(&refs, &mut out);
            for (msg, tag) in refs.iter().zip(&out) {
                assert_eq!(*tag, rfc2104(key, msg));
            }
        }
    }

    /// RFC 2104 spelled out with one-shot SM3: H((K ^ opad) || H((K ^ ipad) || m)).
    fn rfc2104(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut k = [0u8; BLOCK_LEN];
        if key.len() > BLOCK_LEN {
            k[..32].copy_from_slice(&crate::sm3::sm3(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        inner.extend_from_slice(msg);
        let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        outer.extend_from_slice(&crate::sm3::sm3(&inner));
        crate::sm3::sm3(&outer)
    }

    #[test]
    fn precomputed_pads_equal_plain_rfc2104() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut bytes = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect()
        };
        for key_len in [0, 1, 16, 32, 63, 64, 65, 100, 200] {
            let key = bytes(key_len);
            let base = HmacSm3::new(&key);
            for msg_len in [0, 1, 26, 55, 56, 63, 64, 65, 119, 120, 128, 1000] {
                let msg = bytes(msg_len);
                let expected = rfc2104(&key, &msg);
                assert_eq!(
                    hmac_sm3(&key, &msg),
                    expected,
                    "key {key_len} msg {msg_len}"
                );
                // One keyed instance reused by cloning, fed in pieces, as masking does.
                let mut m = base.clone();
                let (a, b) = msg.split_at(msg_len / 3);
                m.update(a);
                m.update(b);
                assert_eq!(m.finalize(), expected, "key {key_len} msg {msg_len} split");
                assert_eq!(base.mac(&msg), expected, "key {key_len} msg {msg_len} mac");
            }
        }
    }

    #[test]
    fn long_key_is_hashed_and_verify_rejects_changes() {
        let long = [0x55u8; 100];
        assert_eq!(
            hmac_sm3(&long, b"m"),
            hmac_sm3(&crate::sm3::sm3(&long), b"m")
        );
        let tag = hmac_sm3(b"k", b"msg");
        let mut m = HmacSm3::new(b"k");
        m.update(b"msg");
        assert!(m.clone().verify(&tag).is_ok());
        let mut bad = tag;
        bad[31] ^= 1;
        assert!(m.clone().verify(&bad).is_err());
        assert!(m.verify(&tag[..31]).is_err());
    }
}
