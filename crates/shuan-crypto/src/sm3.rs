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
pub(crate) const T_ROT: [u32; 64] = {
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
        let mut w = [0u32; 16];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
        // Fully unrolled with literal indices (no bounds checks, constants folded). The
        // message schedule lives in a 16-word ring, W[j+4] computed just before round j
        // needs it; the standard's variable rotation becomes renaming at compile time.
        macro_rules! expand {
            ($j:literal, $m16:literal, $m9:literal, $m3:literal, $m13:literal, $m6:literal) => {
                w[$m16] =
                    p1(w[$m16] ^ w[$m9] ^ w[$m3].rotate_left(15)) ^ w[$m13].rotate_left(7) ^ w[$m6];
            };
        }
        macro_rules! round {
            ($j:literal, $wj:literal, $wj4:literal, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $ff:expr, $gg:expr) => {{
                let a12 = $a.rotate_left(12);
                let ss1 = a12.wrapping_add($e).wrapping_add(T_ROT[$j]).rotate_left(7);
                let ss2 = ss1 ^ a12;
                let tt1 = $ff
                    .wrapping_add($d)
                    .wrapping_add(ss2)
                    .wrapping_add(w[$wj] ^ w[$wj4]);
                let tt2 = $gg.wrapping_add($h).wrapping_add(ss1).wrapping_add(w[$wj]);
                $b = $b.rotate_left(9);
                $d = tt1;
                $f = $f.rotate_left(19);
                $h = p0(tt2);
            }};
        }
        round!(0, 0, 4, a, b, c, d, e, f, g, h, (a ^ b ^ c), (e ^ f ^ g));
        round!(1, 1, 5, d, a, b, c, h, e, f, g, (d ^ a ^ b), (h ^ e ^ f));
        round!(2, 2, 6, c, d, a, b, g, h, e, f, (c ^ d ^ a), (g ^ h ^ e));
        round!(3, 3, 7, b, c, d, a, f, g, h, e, (b ^ c ^ d), (f ^ g ^ h));
        round!(4, 4, 8, a, b, c, d, e, f, g, h, (a ^ b ^ c), (e ^ f ^ g));
        round!(5, 5, 9, d, a, b, c, h, e, f, g, (d ^ a ^ b), (h ^ e ^ f));
        round!(6, 6, 10, c, d, a, b, g, h, e, f, (c ^ d ^ a), (g ^ h ^ e));
        round!(7, 7, 11, b, c, d, a, f, g, h, e, (b ^ c ^ d), (f ^ g ^ h));
        round!(8, 8, 12, a, b, c, d, e, f, g, h, (a ^ b ^ c), (e ^ f ^ g));
        round!(9, 9, 13, d, a, b, c, h, e, f, g, (d ^ a ^ b), (h ^ e ^ f));
        round!(10, 10, 14, c, d, a, b, g, h, e, f, (c ^ d ^ a), (g ^ h ^ e));
        round!(11, 11, 15, b, c, d, a, f, g, h, e, (b ^ c ^ d), (f ^ g ^ h));
        expand!(16, 0, 7, 13, 3, 10);
        round!(12, 12, 0, a, b, c, d, e, f, g, h, (a ^ b ^ c), (e ^ f ^ g));
        expand!(17, 1, 8, 14, 4, 11);
        round!(13, 13, 1, d, a, b, c, h, e, f, g, (d ^ a ^ b), (h ^ e ^ f));
        expand!(18, 2, 9, 15, 5, 12);
        round!(14, 14, 2, c, d, a, b, g, h, e, f, (c ^ d ^ a), (g ^ h ^ e));
        expand!(19, 3, 10, 0, 6, 13);
        round!(15, 15, 3, b, c, d, a, f, g, h, e, (b ^ c ^ d), (f ^ g ^ h));
        expand!(20, 4, 11, 1, 7, 14);
        round!(
            16,
            0,
            4,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(21, 5, 12, 2, 8, 15);
        round!(
            17,
            1,
            5,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(22, 6, 13, 3, 9, 0);
        round!(
            18,
            2,
            6,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(23, 7, 14, 4, 10, 1);
        round!(
            19,
            3,
            7,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(24, 8, 15, 5, 11, 2);
        round!(
            20,
            4,
            8,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(25, 9, 0, 6, 12, 3);
        round!(
            21,
            5,
            9,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(26, 10, 1, 7, 13, 4);
        round!(
            22,
            6,
            10,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(27, 11, 2, 8, 14, 5);
        round!(
            23,
            7,
            11,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(28, 12, 3, 9, 15, 6);
        round!(
            24,
            8,
            12,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(29, 13, 4, 10, 0, 7);
        round!(
            25,
            9,
            13,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(30, 14, 5, 11, 1, 8);
        round!(
            26,
            10,
            14,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(31, 15, 6, 12, 2, 9);
        round!(
            27,
            11,
            15,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(32, 0, 7, 13, 3, 10);
        round!(
            28,
            12,
            0,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(33, 1, 8, 14, 4, 11);
        round!(
            29,
            13,
            1,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(34, 2, 9, 15, 5, 12);
        round!(
            30,
            14,
            2,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(35, 3, 10, 0, 6, 13);
        round!(
            31,
            15,
            3,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(36, 4, 11, 1, 7, 14);
        round!(
            32,
            0,
            4,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(37, 5, 12, 2, 8, 15);
        round!(
            33,
            1,
            5,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(38, 6, 13, 3, 9, 0);
        round!(
            34,
            2,
            6,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(39, 7, 14, 4, 10, 1);
        round!(
            35,
            3,
            7,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(40, 8, 15, 5, 11, 2);
        round!(
            36,
            4,
            8,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(41, 9, 0, 6, 12, 3);
        round!(
            37,
            5,
            9,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(42, 10, 1, 7, 13, 4);
        round!(
            38,
            6,
            10,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(43, 11, 2, 8, 14, 5);
        round!(
            39,
            7,
            11,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(44, 12, 3, 9, 15, 6);
        round!(
            40,
            8,
            12,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(45, 13, 4, 10, 0, 7);
        round!(
            41,
            9,
            13,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(46, 14, 5, 11, 1, 8);
        round!(
            42,
            10,
            14,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(47, 15, 6, 12, 2, 9);
        round!(
            43,
            11,
            15,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(48, 0, 7, 13, 3, 10);
        round!(
            44,
            12,
            0,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(49, 1, 8, 14, 4, 11);
        round!(
            45,
            13,
            1,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(50, 2, 9, 15, 5, 12);
        round!(
            46,
            14,
            2,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(51, 3, 10, 0, 6, 13);
        round!(
            47,
            15,
            3,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(52, 4, 11, 1, 7, 14);
        round!(
            48,
            0,
            4,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(53, 5, 12, 2, 8, 15);
        round!(
            49,
            1,
            5,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(54, 6, 13, 3, 9, 0);
        round!(
            50,
            2,
            6,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(55, 7, 14, 4, 10, 1);
        round!(
            51,
            3,
            7,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(56, 8, 15, 5, 11, 2);
        round!(
            52,
            4,
            8,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(57, 9, 0, 6, 12, 3);
        round!(
            53,
            5,
            9,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(58, 10, 1, 7, 13, 4);
        round!(
            54,
            6,
            10,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(59, 11, 2, 8, 14, 5);
        round!(
            55,
            7,
            11,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(60, 12, 3, 9, 15, 6);
        round!(
            56,
            8,
            12,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(61, 13, 4, 10, 0, 7);
        round!(
            57,
            9,
            13,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(62, 14, 5, 11, 1, 8);
        round!(
            58,
            10,
            14,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(63, 15, 6, 12, 2, 9);
        round!(
            59,
            11,
            15,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
        expand!(64, 0, 7, 13, 3, 10);
        round!(
            60,
            12,
            0,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            ((a & b) | (c & (a | b))),
            (((f ^ g) & e) ^ g)
        );
        expand!(65, 1, 8, 14, 4, 11);
        round!(
            61,
            13,
            1,
            d,
            a,
            b,
            c,
            h,
            e,
            f,
            g,
            ((d & a) | (b & (d | a))),
            (((e ^ f) & h) ^ f)
        );
        expand!(66, 2, 9, 15, 5, 12);
        round!(
            62,
            14,
            2,
            c,
            d,
            a,
            b,
            g,
            h,
            e,
            f,
            ((c & d) | (a & (c | d))),
            (((h ^ e) & g) ^ e)
        );
        expand!(67, 3, 10, 0, 6, 13);
        round!(
            63,
            15,
            3,
            b,
            c,
            d,
            a,
            f,
            g,
            h,
            e,
            ((b & c) | (d & (b | c))),
            (((g ^ h) & f) ^ h)
        );
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

    /// The digest of everything absorbed so far followed by `data`, leaving `self` as it
    /// is: what `clone`, `update(data)`, `finalize` give, without copying the hasher when
    /// the rest fits in one final block (HMAC over short values, millions of times per
    /// masking run).
    pub(crate) fn digest_with(&self, data: &[u8]) -> [u8; 32] {
        if self.buf_len + data.len() > BLOCK_LEN - 9 {
            let mut h = self.clone();
            h.update(data);
            return h.finalize();
        }
        let total = self.total.wrapping_add(data.len() as u64);
        let mut block = [0u8; BLOCK_LEN];
        block[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        let end = self.buf_len + data.len();
        block[self.buf_len..end].copy_from_slice(data);
        block[end] = 0x80;
        block[BLOCK_LEN - 8..].copy_from_slice(&total.wrapping_mul(8).to_be_bytes());
        let mut state = self.state;
        compress(&mut state, &block);
        let out = state_bytes(&state);
        // The block and the state may be key-derived (HMAC pads).
        zeroize::Zeroize::zeroize(&mut block);
        zeroize::Zeroize::zeroize(&mut state);
        out
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
        state_bytes(&self.state)
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

// ---------------------------------------------------------------------------------------
// Many messages at once.

/// One message of a multi-lane run: hashing continues from `start`, after `absorbed`
/// bytes (a multiple of 64) went into it, over the concatenation of `parts`. `start` is
/// borrowed, not copied, so key-derived states (HMAC pads) stay only in their hasher,
/// which zeroizes them.
#[derive(Clone, Copy)]
struct Job<'a> {
    start: &'a [u32; 8],
    absorbed: u64,
    parts: [&'a [u8]; 3],
}

impl Job<'_> {
    fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }

    fn blocks(&self) -> usize {
        padded_blocks(self.len())
    }

    /// Block `k` of the padded message.
    fn block(&self, k: usize, len: usize, out: &mut [u8; BLOCK_LEN]) {
        let start = k * BLOCK_LEN;
        let end = start + BLOCK_LEN;
        out.fill(0);
        let mut off = 0;
        for p in self.parts {
            let (s, e) = (off.max(start), (off + p.len()).min(end));
            if s < e {
                out[s - start..e - start].copy_from_slice(&p[s - off..e - off]);
            }
            off += p.len();
        }
        if (start..end).contains(&len) {
            out[len - start] = 0x80;
        }
        if k + 1 == padded_blocks(len) {
            let bits = self.absorbed.wrapping_add(len as u64).wrapping_mul(8);
            out[BLOCK_LEN - 8..].copy_from_slice(&bits.to_be_bytes());
        }
    }

    /// The whole digest on one core (short runs and the last stragglers of a long one).
    fn finish_scalar(&self, mut state: [u32; 8], from_block: usize) -> [u8; 32] {
        let len = self.len();
        let mut block = [0u8; BLOCK_LEN];
        for k in from_block..self.blocks() {
            self.block(k, len, &mut block);
            compress(&mut state, &block);
        }
        let out = state_bytes(&state);
        zeroize::Zeroize::zeroize(&mut block);
        zeroize::Zeroize::zeroize(&mut state);
        out
    }
}

/// Number of 64-byte blocks of a `len`-byte message once padded (the 0x80 byte and the
/// 8-byte bit length).
fn padded_blocks(len: usize) -> usize {
    (len + 9).div_ceil(BLOCK_LEN)
}

fn state_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, s) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&s.to_be_bytes());
    }
    out
}

/// A message in progress in one lane.
#[derive(Clone, Copy)]
struct Slot {
    job: usize,
    len: usize,
    block: usize,
    blocks: usize,
}

/// Hashes every job into `out` (same order) with the `lanes`-wide kernel (0: one at a
/// time). Lanes are refilled as soon as their message ends, so messages of different
/// lengths keep the lanes busy; lanes with nothing left to do compute on stale words and
/// their results are dropped.
fn run_jobs(lanes: usize, jobs: &[Job<'_>], out: &mut [[u8; 32]]) {
    use crate::simd_sm3::{SlicedBlock, SlicedState, MAX_LANES};
    assert_eq!(jobs.len(), out.len(), "one output per message");
    if lanes == 0 || jobs.len() < 2 {
        for (j, o) in jobs.iter().zip(out.iter_mut()) {
            *o = j.finish_scalar(*j.start, 0);
        }
        return;
    }
    let mut state: SlicedState = [[0; MAX_LANES]; 8];
    let mut w: SlicedBlock = [[0; MAX_LANES]; 16];
    let mut block = [0u8; BLOCK_LEN];
    let mut slots: [Option<Slot>; MAX_LANES] = [None; MAX_LANES];
    let mut next = 0;
    loop {
        let mut active = 0;
        for (l, slot) in slots.iter_mut().enumerate().take(lanes) {
            if slot.is_none() && next < jobs.len() {
                let job = &jobs[next];
                for (i, word) in job.start.iter().enumerate() {
                    state[i][l] = *word;
                }
                *slot = Some(Slot {
                    job: next,
                    len: job.len(),
                    block: 0,
                    blocks: job.blocks(),
                });
                next += 1;
            }
            active += usize::from(slot.is_some());
        }
        if active == 0 {
            break;
        }
        if next == jobs.len() && active * 8 <= lanes {
            // A vector step costs about two scalar blocks: finish the stragglers alone.
            for (l, slot) in slots.iter().enumerate().take(lanes) {
                if let Some(s) = slot {
                    let lane_state: [u32; 8] = std::array::from_fn(|i| state[i][l]);
                    out[s.job] = jobs[s.job].finish_scalar(lane_state, s.block);
                }
            }
            break;
        }
        for (l, slot) in slots.iter().enumerate().take(lanes) {
            if let Some(s) = slot {
                jobs[s.job].block(s.block, s.len, &mut block);
                for (i, word) in block.chunks_exact(4).enumerate() {
                    w[i][l] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
                }
            }
        }
        crate::simd_sm3::compress(lanes, &mut state, &w);
        for (l, slot) in slots.iter_mut().enumerate().take(lanes) {
            if let Some(s) = slot {
                s.block += 1;
                if s.block == s.blocks {
                    let lane_state: [u32; 8] = std::array::from_fn(|i| state[i][l]);
                    out[s.job] = state_bytes(&lane_state);
                    *slot = None;
                }
            }
        }
    }
    // The states and blocks may be key-derived (HMAC pads) or secret messages.
    zeroize::Zeroize::zeroize(&mut state);
    zeroize::Zeroize::zeroize(&mut w);
    zeroize::Zeroize::zeroize(&mut block);
}

/// SM3 digests of many messages at once: `out[i] = SM3(msgs[i][0] || msgs[i][1])`.
///
/// Where the CPU has AVX-512 (16 messages per step) or AVX2 (8), the messages are hashed
/// side by side in vector lanes, several times the throughput of hashing them one by
/// one when they are short (HMAC pseudonyms, Merkle nodes, audit records). Each message
/// is given as two parts so callers can hash a prefix and a body without copying them
/// together. `out` must be as long as `msgs`.
pub fn digest_many(msgs: &[[&[u8]; 2]], out: &mut [[u8; 32]]) {
    let jobs: Vec<Job<'_>> = msgs
        .iter()
        .map(|[a, b]| Job {
            start: &IV,
            absorbed: 0,
            parts: [a, b, &[]],
        })
        .collect();
    run_jobs(crate::simd_sm3::lanes(), &jobs, out);
}

impl Sm3 {
    /// For every message, the digest of what this hasher absorbed followed by the
    /// message (as [`Sm3::digest_with`] one by one), computed side by side as in
    /// [`digest_many`]. `out` must be as long as `msgs`.
    pub fn digest_many_with(&self, msgs: &[&[u8]], out: &mut [[u8; 32]]) {
        self.digest_many_with_lanes(crate::simd_sm3::lanes(), msgs, out);
    }

    fn digest_many_with_lanes(&self, lanes: usize, msgs: &[&[u8]], out: &mut [[u8; 32]]) {
        let pending = &self.buf[..self.buf_len];
        let absorbed = self.total.wrapping_sub(self.buf_len as u64);
        let jobs: Vec<Job<'_>> = msgs
            .iter()
            .map(|m| Job {
                start: &self.state,
                absorbed,
                parts: [pending, m, &[]],
            })
            .collect();
        run_jobs(lanes, &jobs, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::hex::encode as hex;

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
    fn digest_with_equals_update_then_finalize() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 13 + 5) as u8).collect();
        for prefix in [0, 1, 20, 55, 63, 64, 65, 130] {
            let mut h = Sm3::new();
            h.update(&data[..prefix]);
            for len in [0, 1, 8, 26, 35, 54, 55, 56, 63, 64, 100] {
                let tail = &data[prefix..prefix + len];
                let mut whole = data[..prefix].to_vec();
                whole.extend_from_slice(tail);
                assert_eq!(
                    h.digest_with(tail),
                    sm3(&whole),
                    "prefix {prefix} len {len}"
                );
            }
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

    fn xorshift_bytes(seed: &mut u64, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                *seed as u8
            })
            .collect()
    }

    /// Every kernel this CPU has (and the one-at-a-time path) against the RustCrypto
    /// `sm3` crate, an independent implementation: random counts of messages of random
    /// lengths (so lanes finish at different steps and are refilled), split at random
    /// points into parts, after random prefixes.
    #[test]
    fn many_at_once_agrees_with_rustcrypto_on_every_kernel() {
        use ::sm3::Digest as _;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for lanes in [0, 8, 16] {
            if !crate::simd_sm3::supported(lanes) {
                eprintln!("no {lanes}-lane SM3 kernel on this CPU; skipped");
                continue;
            }
            for round in 0..60 {
                let count = (round * 7) % 53;
                let prefix_len = [0usize, 1, 55, 64, 100, 128][round % 6];
                let prefix = xorshift_bytes(&mut seed, prefix_len);
                let mut h = Sm3::new();
                h.update(&prefix);
                let msgs: Vec<Vec<u8>> = (0..count)
                    .map(|i| {
                        let len = match (round + i) % 5 {
                            0 => i % 3,
                            1 => 50 + i % 10, // around the one-block limit
                            2 => 119 + i % 3,
                            3 => 64 * (i % 4),
                            _ => (seed % 700) as usize,
                        };
                        xorshift_bytes(&mut seed, len)
                    })
                    .collect();
                let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
                let mut got = vec![[0u8; 32]; count];
                h.digest_many_with_lanes(lanes, &refs, &mut got);
                let mut split_got = vec![[0u8; 32]; count];
                let parts: Vec<[&[u8]; 2]> = refs
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        let cut = (i * 31) % (m.len() + 1);
                        [&m[..cut], &m[cut..]]
                    })
                    .collect();
                let jobs: Vec<Job<'_>> = parts
                    .iter()
                    .map(|[a, b]| Job {
                        start: &IV,
                        absorbed: 0,
                        parts: [a, &[], b],
                    })
                    .collect();
                run_jobs(lanes, &jobs, &mut split_got);
                for (i, m) in msgs.iter().enumerate() {
                    let mut whole = prefix.clone();
                    whole.extend_from_slice(m);
                    let theirs: [u8; 32] = ::sm3::Sm3::digest(&whole).into();
                    assert_eq!(got[i], theirs, "lanes {lanes} round {round} msg {i}");
                    let theirs: [u8; 32] = ::sm3::Sm3::digest(m).into();
                    assert_eq!(
                        split_got[i], theirs,
                        "lanes {lanes} round {round} msg {i} split"
                    );
                }
            }
        }
    }

    #[test]
    fn digest_many_matches_one_by_one() {
        let mut seed = 7u64;
        let msgs: Vec<Vec<u8>> = (0..100).map(|i| xorshift_bytes(&mut seed, i * 3)).collect();
        let parts: Vec<[&[u8]; 2]> = msgs.iter().map(|m| [&b"\x00"[..], m.as_slice()]).collect();
        let mut out = vec![[0u8; 32]; msgs.len()];
        digest_many(&parts, &mut out);
        for (m, d) in msgs.iter().zip(&out) {
            let mut whole = vec![0u8];
            whole.extend_from_slice(m);
            assert_eq!(*d, sm3(&whole));
        }
        digest_many(&[], &mut []);
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
