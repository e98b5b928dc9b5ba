//! SM3 hash (GB/T 32905-2016): 256-bit digest, 64-byte block. Hand-written (the
//! compression function unrolls well and runs faster than the `sm3` crate); checked
//! against the standard's examples, the `sm3` crate and OpenSSL.

/// SM3 digest length in bytes.
pub const DIGEST_LEN: usize = 32;
/// SM3 block length in bytes (HMAC uses it).
pub const BLOCK_LEN: usize = 64;

const IV: [u32; 8] = [
    0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
];

/// `rol(T_j, j mod 32)` for every round, computed at compile time.
const T_ROT: [u32; 64] = {
    let mut t = [0u32; 64];
    let mut j = 0;
    while j < 64 {
        let tj: u32 = if j < 16 { 0x79cc4519 } else { 0x7a879d8a };
        t[j] = tj.rotate_left((j % 32) as u32);
        j += 1;
    }
    t
};

#[inline(always)]
fn p0(x: u32) -> u32 {
    x ^ x.rotate_left(9) ^ x.rotate_left(17)
}

#[inline(always)]
fn p1(x: u32) -> u32 {
    x ^ x.rotate_left(15) ^ x.rotate_left(23)
}

/// The SM3 compression function over whole 64-byte blocks.
fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(BLOCK_LEN) {
        let mut w = [0u32; 68];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for j in 16..68 {
            w[j] = p1(w[j - 16] ^ w[j - 9] ^ w[j - 3].rotate_left(15))
                ^ w[j - 13].rotate_left(7)
                ^ w[j - 6];
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
        macro_rules! round {
            ($j:expr, $ff:expr, $gg:expr) => {{
                let a12 = a.rotate_left(12);
                let ss1 = a12.wrapping_add(e).wrapping_add(T_ROT[$j]).rotate_left(7);
                let ss2 = ss1 ^ a12;
                let tt1 = $ff
                    .wrapping_add(d)
                    .wrapping_add(ss2)
                    .wrapping_add(w[$j] ^ w[$j + 4]);
                let tt2 = $gg.wrapping_add(h).wrapping_add(ss1).wrapping_add(w[$j]);
                d = c;
                c = b.rotate_left(9);
                b = a;
                a = tt1;
                h = g;
                g = f.rotate_left(19);
                f = e;
                e = p0(tt2);
            }};
        }
        for j in 0..16 {
            round!(j, a ^ b ^ c, e ^ f ^ g);
        }
        for j in 16..64 {
            round!(j, (a & b) | (c & (a | b)), (e & f) | (!e & g));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s ^= v;
        }
    }
}

/// Incremental SM3 hasher (GB/T 32905-2016).
#[derive(Clone)]
pub struct Sm3 {
    state: [u32; 8],
    buf: [u8; BLOCK_LEN],
    buf_len: usize,
    total: u64,
}

impl Default for Sm3 {
    fn default() -> Self {
        Sm3 {
            state: IV,
            buf: [0; BLOCK_LEN],
            buf_len: 0,
            total: 0,
        }
    }
}

impl std::fmt::Debug for Sm3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm3 { .. }")
    }
}

impl Drop for Sm3 {
    fn drop(&mut self) {
        // The buffer may hold key-derived bytes (HMAC pads).
        zeroize::Zeroize::zeroize(&mut self.buf);
        zeroize::Zeroize::zeroize(&mut self.state);
    }
}

impl Sm3 {
    /// A hasher with the standard initial value.
    pub fn new() -> Self {
        Self::default()
    }

    /// Absorb `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (BLOCK_LEN - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < BLOCK_LEN {
                return;
            }
            let block = self.buf;
            compress(&mut self.state, &block);
            self.buf_len = 0;
        }
        let whole = data.len() / BLOCK_LEN * BLOCK_LEN;
        compress(&mut self.state, &data[..whole]);
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// Finish and return the 32-byte digest.
    pub fn finalize(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        let mut pad = [0u8; 2 * BLOCK_LEN];
        pad[0] = 0x80;
        let pad_len = if self.buf_len < 56 {
            56 - self.buf_len
        } else {
            120 - self.buf_len
        };
        let total = self.total;
        self.update(&pad[..pad_len]);
        self.update(&bits.to_be_bytes());
        self.total = total;
        debug_assert_eq!(self.buf_len, 0);
        let mut out = [0u8; 32];
        for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&s.to_be_bytes());
        }
        out
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
    fn agrees_with_rustcrypto_sm3() {
        use ::sm3::Digest as _;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in (0..300).chain([1000, 4096, 10_001]) {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let theirs: [u8; 32] = ::sm3::Sm3::digest(&data).into();
            assert_eq!(sm3(&data), theirs, "len {len}");
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
