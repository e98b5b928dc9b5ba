//! Multi-lane SM3 compression: 16 (AVX-512) or 8 (AVX2) independent messages hashed at
//! once, one 32-bit lane per message.
//!
//! SM3 is a chain of dependent 32-bit operations, so one message cannot use a vector
//! unit; many short messages (HMAC-SM3 pseudonyms while masking, the ledger's leaf and
//! Merkle node hashes while verifying) can. Each vector register holds the same word of
//! 16 (or 8) messages: the message words `W[i]` and the state words `A..H` are
//! "word-sliced" (`w[i][lane]`, `state[i][lane]`), so every step of GB/T 32905 §5.3.3
//! becomes one vector instruction: additions, XORs, rotations (`vprold` with AVX-512, two
//! shifts and an OR with AVX2) and the Boolean functions (`vpternlogd` with AVX-512).
//!
//! This module and `simd.rs` are the only ones in the crate that use `unsafe`. Its
//! invariants: the kernels run only after `is_x86_feature_detected!` confirmed the
//! features they are compiled for (checked once in [`lanes`]); every load and store is
//! of a whole `[u32; 16]` (or its first 8 words) that the borrow checker already proves
//! valid and exclusive. No data-dependent branch or address: constant time like the
//! scalar code. The safe driver in `sm3.rs` transposes blocks in and digests out, and the
//! unit tests there check every path against the scalar SM3 and the RustCrypto `sm3`
//! crate on random messages of random lengths.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Most lanes any kernel uses; the driver's word-sliced arrays are this wide.
pub(crate) const MAX_LANES: usize = 16;

/// Word-sliced state: `state[i][lane]` is word `i` (A..H) of lane `lane`.
pub(crate) type SlicedState = [[u32; MAX_LANES]; 8];
/// Word-sliced block: `w[i][lane]` is big-endian word `i` of lane `lane`'s block.
pub(crate) type SlicedBlock = [[u32; MAX_LANES]; 16];

/// Which multi-lane kernel this CPU runs, detected once: 16, 8, or 0 (no vector kernel;
/// the driver then hashes messages one at a time). `SHUAN_SM3_LANES=8|0` narrows it
/// (to test and benchmark the narrower paths on a wider CPU).
pub(crate) fn lanes() -> usize {
    use std::sync::OnceLock;
    static L: OnceLock<usize> = OnceLock::new();
    *L.get_or_init(|| {
        let cap = std::env::var("SHUAN_SM3_LANES")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(MAX_LANES);
        // Only widths with a kernel: any other setting rounds down to one.
        [16, 8]
            .into_iter()
            .find(|&w| w <= cap && detect() >= w)
            .unwrap_or(0)
    })
}

#[cfg(target_arch = "x86_64")]
fn detect() -> usize {
    if is_x86_feature_detected!("avx512f") {
        16
    } else if is_x86_feature_detected!("avx2") {
        8
    } else {
        0
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> usize {
    0
}

/// The CPU supports the kernel for `lanes` (so tests can try every kernel it has).
#[cfg(test)]
pub(crate) fn supported(lanes: usize) -> bool {
    match lanes {
        0 => true,
        n => detect() >= n,
    }
}

/// Compress one block per lane: `state[·][l] = CF(state[·][l], w[·][l])` for every lane
/// `l` below `lanes` (16 or 8; lanes above are left untouched). `lanes` must be a width
/// that [`supported`] confirmed.
pub(crate) fn compress(lanes: usize, state: &mut SlicedState, w: &SlicedBlock) {
    #[cfg(target_arch = "x86_64")]
    {
        if lanes == 16 && detect() >= 16 {
            // SAFETY: avx512f was detected on this CPU just above.
            unsafe { compress16_avx512(state, w) };
            return;
        }
        if lanes == 8 && detect() >= 8 {
            // SAFETY: avx2 was detected on this CPU just above.
            unsafe { compress8_avx2(state, w) };
            return;
        }
    }
    unreachable!("multi-lane SM3 kernel for {lanes} lanes is not available on this CPU");
}

use crate::sm3::T_ROT;

/// The compression function on word-sliced vectors, shared by both kernels: they differ
/// only in the vector type and in how each operation is spelled (`xor3`, `maj` and `ch`
/// are single `vpternlogd`s with AVX-512; `rol` is `vprold` there and two shifts and an
/// OR with AVX2). GB/T 32905 §5.3.3: 52 expanded words, 64 rounds, state XORed in.
macro_rules! sm3_kernel_body {
    ($state:ident, $w_in:ident, $V:ty, zero = $zero:expr, splat = $splat:expr,
     xor = $xor:expr, add = $add:expr, xor3 = $xor3:expr, maj = $maj:expr, ch = $ch:expr,
     rol = $rol:ident, load = $load:ident, store = $store:ident) => {{
        let (xor, add, xor3, maj, ch, splat) = ($xor, $add, $xor3, $maj, $ch, $splat);
        let p0 = |x| xor3(x, $rol!(x, 9), $rol!(x, 17));
        let p1 = |x| xor3(x, $rol!(x, 15), $rol!(x, 23));
        let mut w: [$V; 68] = [$zero; 68];
        for i in 0..16 {
            w[i] = $load!(&$w_in[i]);
        }
        for j in 16..68 {
            let x = xor3(w[j - 16], w[j - 9], $rol!(w[j - 3], 15));
            w[j] = xor3(p1(x), $rol!(w[j - 13], 7), w[j - 6]);
        }
        let v: [$V; 8] = std::array::from_fn(|i| $load!(&$state[i]));
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = v;
        for j in 0..64 {
            let (ff, gg) = if j < 16 {
                (xor3(a, b, c), xor3(e, f, g))
            } else {
                (maj(a, b, c), ch(e, f, g))
            };
            let a12 = $rol!(a, 12);
            let ss1 = $rol!(add(add(a12, e), splat(T_ROT[j])), 7);
            let ss2 = xor(ss1, a12);
            let tt1 = add(add(ff, d), add(ss2, xor(w[j], w[j + 4])));
            let tt2 = add(add(gg, h), add(ss1, w[j]));
            d = c;
            c = $rol!(b, 9);
            b = a;
            a = tt1;
            h = g;
            g = $rol!(f, 19);
            f = e;
            e = p0(tt2);
        }
        for (i, x) in [a, b, c, d, e, f, g, h].into_iter().enumerate() {
            $store!(&mut $state[i], xor(x, v[i]));
        }
    }};
}

// ---------------------------------------------------------------------------------------
// AVX-512: 16 lanes.

/// # Safety
/// The CPU must support avx512f.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn compress16_avx512(state: &mut SlicedState, w_in: &SlicedBlock) {
    macro_rules! load {
        ($p:expr) => {{
            let p: &[u32; MAX_LANES] = $p;
            // SAFETY: `p` is 16 u32 = 64 bytes: exactly one unaligned 512-bit load.
            unsafe { _mm512_loadu_si512(p.as_ptr() as *const __m512i) }
        }};
    }
    macro_rules! store {
        ($p:expr, $v:expr) => {{
            let p: &mut [u32; MAX_LANES] = $p;
            // SAFETY: one 64-byte store into a 64-byte array borrowed mutably.
            unsafe { _mm512_storeu_si512(p.as_mut_ptr() as *mut __m512i, $v) }
        }};
    }
    macro_rules! rol {
        ($x:expr, $n:literal) => {
            _mm512_rol_epi32::<$n>($x)
        };
    }
    sm3_kernel_body!(
        state,
        w_in,
        __m512i,
        zero = _mm512_setzero_si512(),
        splat = |t: u32| _mm512_set1_epi32(t as i32),
        xor = |a, b| _mm512_xor_si512(a, b),
        add = |a, b| _mm512_add_epi32(a, b),
        // Truth tables: x^y^z = 0x96, majority = 0xE8, x ? y : z = 0xCA.
        xor3 = |a, b, c| _mm512_ternarylogic_epi32::<0x96>(a, b, c),
        maj = |a, b, c| _mm512_ternarylogic_epi32::<0xE8>(a, b, c),
        ch = |a, b, c| _mm512_ternarylogic_epi32::<0xCA>(a, b, c),
        rol = rol,
        load = load,
        store = store
    );
}

// ---------------------------------------------------------------------------------------
// AVX2: 8 lanes (the first 8 of each row).

/// # Safety
/// The CPU must support avx2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn compress8_avx2(state: &mut SlicedState, w_in: &SlicedBlock) {
    macro_rules! load {
        ($p:expr) => {{
            let p: &[u32; MAX_LANES] = $p;
            // SAFETY: reads the first 8 u32 (32 bytes) of a 16-word array.
            unsafe { _mm256_loadu_si256(p.as_ptr() as *const __m256i) }
        }};
    }
    macro_rules! store {
        ($p:expr, $v:expr) => {{
            let p: &mut [u32; MAX_LANES] = $p;
            // SAFETY: writes the first 8 u32 (32 bytes) of a 16-word array borrowed mutably.
            unsafe { _mm256_storeu_si256(p.as_mut_ptr() as *mut __m256i, $v) }
        }};
    }
    macro_rules! rol {
        ($x:expr, $n:literal) => {{
            let x = $x;
            _mm256_or_si256(
                _mm256_slli_epi32::<$n>(x),
                _mm256_srli_epi32::<{ 32 - $n }>(x),
            )
        }};
    }
    let xor = |a, b| _mm256_xor_si256(a, b);
    let and = |a, b| _mm256_and_si256(a, b);
    let or = |a, b| _mm256_or_si256(a, b);
    sm3_kernel_body!(
        state,
        w_in,
        __m256i,
        zero = _mm256_setzero_si256(),
        splat = |t: u32| _mm256_set1_epi32(t as i32),
        xor = xor,
        add = |a, b| _mm256_add_epi32(a, b),
        xor3 = |a, b, c| xor(xor(a, b), c),
        maj = |a, b, c| or(and(a, b), and(c, or(a, b))),
        ch = |a, b, c| xor(and(xor(b, c), a), c),
        rol = rol,
        load = load,
        store = store
    );
}
