//! SM3 hash (GB/T 32905-2016): 256-bit digest, 64-byte block.

use ::sm3::Digest as _;

/// Incremental SM3 hasher.
#[derive(Clone, Default)]
pub struct Sm3 {
    inner: ::sm3::Sm3,
}

impl std::fmt::Debug for Sm3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm3 { .. }")
    }
}

/// SM3 digest length in bytes.
pub const DIGEST_LEN: usize = 32;
/// SM3 block length in bytes (HMAC uses it).
pub const BLOCK_LEN: usize = 64;

impl Sm3 {
    /// A hasher with the standard initial value.
    pub fn new() -> Self {
        Self::default()
    }

    /// Absorb `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Finish and return the 32-byte digest.
    pub fn finalize(self) -> [u8; 32] {
        self.inner.finalize().into()
    }
}

impl std::io::Write for Sm3 {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SM3 digest of `data` in one call.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(data);
    h.finalize()
}

/// SM3 key derivation function (GB/T 32918.4-2016 §5.4.3): `SM3(Z || ct)` for a 32-bit
/// big-endian counter `ct` starting at 1, concatenated and truncated to `out.len()` bytes.
/// SM2 encryption and the keyring's sub-key derivation use it.
pub fn kdf(z: &[u8], out: &mut [u8]) {
    for (i, chunk) in out.chunks_mut(DIGEST_LEN).enumerate() {
        let ct = (i as u32).wrapping_add(1);
        let mut h = Sm3::new();
        h.update(z);
        h.update(&ct.to_be_bytes());
        let d = h.finalize();
        chunk.copy_from_slice(&d[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    // Vectors: /work/shared/standards/test_vectors.json "sm3" (GB/T 32905-2016 Annex A).
    #[test]
    fn known_answers() {
        assert_eq!(
            hex(&sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex(&sm3(&b"abcd".repeat(16))),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        assert_eq!(
            hex(&sm3(b"")),
            "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0, 1, 63, 64, 65, 500, 1000] {
            let mut h = Sm3::new();
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(h.finalize(), sm3(&data));
        }
    }

    #[test]
    fn kdf_is_counter_mode_sm3() {
        let mut out = [0u8; 70];
        kdf(b"zz", &mut out);
        let mut first = b"zz".to_vec();
        first.extend_from_slice(&1u32.to_be_bytes());
        assert_eq!(out[..32], sm3(&first));
        let mut third = b"zz".to_vec();
        third.extend_from_slice(&3u32.to_be_bytes());
        assert_eq!(out[64..], sm3(&third)[..6]);
    }
}
