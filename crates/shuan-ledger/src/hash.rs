//! SM3 (GB/T 32905) digests as used by the ledger, and hex helpers.
//!
//! Every hash the ledger computes goes through this module so the SM3 implementation
//! can be swapped in one place.

/// A 32-byte SM3 digest.
pub type Hash = [u8; 32];

/// Incremental SM3.
#[derive(Clone, Default)]
pub struct Hasher(shuan_crypto::sm3::Sm3);

impl Hasher {
    /// A fresh SM3 state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Absorbs more input.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything absorbed.
    pub fn finalize(self) -> Hash {
        self.0.finalize()
    }
}

/// SM3 of one buffer.
pub fn sm3(data: &[u8]) -> Hash {
    let mut h = Hasher::new();
    h.update(data);
    h.finalize()
}

/// SM3 of many two-part messages at once (`out[i] = SM3(msgs[i][0] || msgs[i][1])`),
/// side by side in vector lanes where the CPU allows: verify's leaf hashes.
pub fn sm3_many(msgs: &[[&[u8]; 2]], out: &mut [Hash]) {
    shuan_crypto::sm3::digest_many(msgs, out);
}

/// Lower-case hex of bytes (the workspace's one hex codec, `shuan_crypto::hex`).
pub fn to_hex(bytes: &[u8]) -> String {
    shuan_crypto::hex::encode(bytes)
}

/// Bytes from hex (either case); `None` if the text is not hex of even length.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    shuan_crypto::hex::decode(text).ok()
}

/// A 32-byte hash from hex.
pub fn hash_from_hex(text: &str) -> Option<Hash> {
    from_hex(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors: GB/T 32905 via /work/shared/standards/test_vectors.json ("sm3").
    #[test]
    fn sm3_standard_vectors() {
        assert_eq!(
            to_hex(&sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            to_hex(&sm3(&b"abcd".repeat(16))),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn hex_round_trip() {
        let h = sm3(b"x");
        assert_eq!(hash_from_hex(&to_hex(&h)), Some(h));
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
    }
}
