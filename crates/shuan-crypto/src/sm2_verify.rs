//! Variable-time SM2 signature verification: `[s]G + [t]P` with Jacobian coordinates
//! (a = −3 doubling), interleaved wNAF (window 7 over a precomputed affine table of G,
//! window 5 over P), sharing the doublings between both scalars.
//!
//! Verification handles only public data (public key, message digest, signature), so
//! running in variable time leaks nothing secret; signing keeps using the constant-time
//! RustCrypto code. The field is Montgomery arithmetic modulo the SM2 prime
//! p = 2^256 − 2^224 − 2^96 + 2^64 − 1 on four 64-bit limbs. Tested against the `sm2`
//! crate's verifier on random valid and invalid signatures.

use std::sync::OnceLock;

/// Field element in Montgomery form (little-endian limbs), always fully reduced.
type Fe = [u64; 4];

const P: Fe = [
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];

#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let v = a as u128 + b as u128 + carry as u128;
    (v as u64, (v >> 64) as u64)
}

#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let v = (a as u128).wrapping_sub(b as u128 + borrow as u128);
    (v as u64, ((v >> 64) as u64) & 1)
}

#[inline(always)]
fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let v = acc as u128 + (a as u128) * (b as u128) + carry as u128;
    (v as u64, (v >> 64) as u64)
}

/// Subtract p if `(hi, x) >= p`.
#[inline(always)]
fn reduce_once(x: Fe, hi: u64) -> Fe {
    let (r0, b) = sbb(x[0], P[0], 0);
    let (r1, b) = sbb(x[1], P[1], b);
    let (r2, b) = sbb(x[2], P[2], b);
    let (r3, b) = sbb(x[3], P[3], b);
    let (_, b) = sbb(hi, 0, b);
    if b == 0 {
        [r0, r1, r2, r3]
    } else {
        x
    }
}

fn add(a: &Fe, b: &Fe) -> Fe {
    let (r0, c) = adc(a[0], b[0], 0);
    let (r1, c) = adc(a[1], b[1], c);
    let (r2, c) = adc(a[2], b[2], c);
    let (r3, c) = adc(a[3], b[3], c);
    reduce_once([r0, r1, r2, r3], c)
}

fn sub(a: &Fe, b: &Fe) -> Fe {
    let (r0, bw) = sbb(a[0], b[0], 0);
    let (r1, bw) = sbb(a[1], b[1], bw);
    let (r2, bw) = sbb(a[2], b[2], bw);
    let (r3, bw) = sbb(a[3], b[3], bw);
    if bw == 0 {
        return [r0, r1, r2, r3];
    }
    let (r0, c) = adc(r0, P[0], 0);
    let (r1, c) = adc(r1, P[1], c);
    let (r2, c) = adc(r2, P[2], c);
    let (r3, _) = adc(r3, P[3], c);
    [r0, r1, r2, r3]
}

fn neg(a: &Fe) -> Fe {
    sub(&[0; 4], a)
}

/// Montgomery product `a·b·2^-256 mod p`. Because p ≡ −1 (mod 2^64), the Montgomery
/// factor `−p⁻¹ mod 2^64` is 1 and each reduction step multiplies by `t[0]` itself.
fn mul(a: &Fe, b: &Fe) -> Fe {
    let mut t = [0u64; 6];
    for &bi in b.iter() {
        let mut c = 0;
        for j in 0..4 {
            (t[j], c) = mac(t[j], a[j], bi, c);
        }
        let (t4, c2) = adc(t[4], c, 0);
        t[4] = t4;
        t[5] = c2;
        let m = t[0];
        let (_, mut c) = mac(t[0], m, P[0], 0);
        for j in 1..4 {
            (t[j - 1], c) = mac(t[j], m, P[j], c);
        }
        let (t3, c3) = adc(t[4], c, 0);
        t[3] = t3;
        t[4] = t[5] + c3;
    }
    reduce_once([t[0], t[1], t[2], t[3]], t[4])
}

fn sqr(a: &Fe) -> Fe {
    mul(a, a)
}

fn is_zero(a: &Fe) -> bool {
    a.iter().all(|&l| l == 0)
}

/// 2^512 mod p, to convert into Montgomery form.
fn r2() -> &'static Fe {
    static R2: OnceLock<Fe> = OnceLock::new();
    R2.get_or_init(|| {
        let mut x: Fe = [1, 0, 0, 0];
        for _ in 0..512 {
            x = add(&x, &x);
        }
        x
    })
}

fn from_be_bytes(b: &[u8; 32]) -> Option<Fe> {
    let mut x = [0u64; 4];
    for (i, limb) in x.iter_mut().enumerate() {
        let o = 32 - 8 * (i + 1);
        *limb = u64::from_be_bytes(b[o..o + 8].try_into().expect("8 bytes"));
    }
    // Reject non-canonical values (>= p).
    if reduce_once(x, 0) != x {
        return None;
    }
    Some(mul(&x, r2()))
}

fn to_be_bytes(a: &Fe) -> [u8; 32] {
    let x = mul(a, &[1, 0, 0, 0]);
    let mut out = [0u8; 32];
    for (i, limb) in x.iter().enumerate() {
        let o = 32 - 8 * (i + 1);
        out[o..o + 8].copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// `a^(p−2)`, the inverse for non-zero `a` (variable time; only public values here).
fn invert(a: &Fe) -> Fe {
    let e = [P[0] - 2, P[1], P[2], P[3]];
    let one = from_be_bytes(&{
        let mut b = [0u8; 32];
        b[31] = 1;
        b
    })
    .expect("1 < p");
    let mut r = one;
    for limb in e.iter().rev() {
        for bit in (0..64).rev() {
            r = sqr(&r);
            if (limb >> bit) & 1 == 1 {
                r = mul(&r, a);
            }
        }
    }
    r
}

#[derive(Clone, Copy)]
struct Affine {
    x: Fe,
    y: Fe,
}

#[derive(Clone, Copy)]
struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Jacobian {
    const INFINITY: Jacobian = Jacobian {
        x: [0; 4],
        y: [0; 4],
        z: [0; 4],
    };

    fn is_infinity(&self) -> bool {
        is_zero(&self.z)
    }

    fn from_affine(p: &Affine) -> Self {
        Jacobian {
            x: p.x,
            y: p.y,
            z: *one(),
        }
    }

    /// dbl-2001-b (a = −3): 3M + 5S.
    fn double(&self) -> Self {
        if self.is_infinity() {
            return *self;
        }
        let delta = sqr(&self.z);
        let gamma = sqr(&self.y);
        let beta = mul(&self.x, &gamma);
        let t = mul(&sub(&self.x, &delta), &add(&self.x, &delta));
        let alpha = add(&add(&t, &t), &t);
        let beta4 = {
            let b2 = add(&beta, &beta);
            add(&b2, &b2)
        };
        let x3 = sub(&sqr(&alpha), &add(&beta4, &beta4));
        let yz = add(&self.y, &self.z);
        let z3 = sub(&sub(&sqr(&yz), &gamma), &delta);
        let g2 = sqr(&gamma);
        let g8 = {
            let a = add(&g2, &g2);
            let b = add(&a, &a);
            add(&b, &b)
        };
        let y3 = sub(&mul(&alpha, &sub(&beta4, &x3)), &g8);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// madd-2007-bl: Jacobian + affine, 7M + 4S.
    fn add_affine(&self, q: &Affine) -> Self {
        if self.is_infinity() {
            return Jacobian::from_affine(q);
        }
        let z1z1 = sqr(&self.z);
        let u2 = mul(&q.x, &z1z1);
        let s2 = mul(&q.y, &mul(&self.z, &z1z1));
        let h = sub(&u2, &self.x);
        let s_diff = sub(&s2, &self.y);
        if is_zero(&h) {
            return if is_zero(&s_diff) {
                self.double()
            } else {
                Jacobian::INFINITY
            };
        }
        let hh = sqr(&h);
        let i = {
            let a = add(&hh, &hh);
            add(&a, &a)
        };
        let j = mul(&h, &i);
        let r = add(&s_diff, &s_diff);
        let v = mul(&self.x, &i);
        let x3 = sub(&sub(&sqr(&r), &j), &add(&v, &v));
        let yj = mul(&self.y, &j);
        let y3 = sub(&mul(&r, &sub(&v, &x3)), &add(&yj, &yj));
        let zh = add(&self.z, &h);
        let z3 = sub(&sub(&sqr(&zh), &z1z1), &hh);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Full Jacobian addition (add-2007-bl), used only to build tables.
    fn add(&self, q: &Jacobian) -> Self {
        if self.is_infinity() {
            return *q;
        }
        if q.is_infinity() {
            return *self;
        }
        let z1z1 = sqr(&self.z);
        let z2z2 = sqr(&q.z);
        let u1 = mul(&self.x, &z2z2);
        let u2 = mul(&q.x, &z1z1);
        let s1 = mul(&self.y, &mul(&q.z, &z2z2));
        let s2 = mul(&q.y, &mul(&self.z, &z1z1));
        let h = sub(&u2, &u1);
        let s_diff = sub(&s2, &s1);
        if is_zero(&h) {
            return if is_zero(&s_diff) {
                self.double()
            } else {
                Jacobian::INFINITY
            };
        }
        let i = sqr(&add(&h, &h));
        let j = mul(&h, &i);
        let r = add(&s_diff, &s_diff);
        let v = mul(&u1, &i);
        let x3 = sub(&sub(&sqr(&r), &j), &add(&v, &v));
        let s1j = mul(&s1, &j);
        let y3 = sub(&mul(&r, &sub(&v, &x3)), &add(&s1j, &s1j));
        let zz = add(&self.z, &q.z);
        let z3 = mul(&sub(&sub(&sqr(&zz), &z1z1), &z2z2), &h);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

fn one() -> &'static Fe {
    static ONE: OnceLock<Fe> = OnceLock::new();
    ONE.get_or_init(|| {
        let mut b = [0u8; 32];
        b[31] = 1;
        from_be_bytes(&b).expect("1 < p")
    })
}

/// Odd multiples `P, 3P, …, (2^(w−1) − 1)P` in affine form, with one shared inversion.
fn odd_multiples(p: &Affine, w: u32) -> Vec<Affine> {
    let n = 1usize << (w - 2);
    let base = Jacobian::from_affine(p);
    let twice = base.double();
    let mut jac = Vec::with_capacity(n);
    jac.push(base);
    for i in 1..n {
        let next = jac[i - 1].add(&twice);
        jac.push(next);
    }
    // Montgomery's trick: invert the product of all Z, then peel off each inverse.
    // No Z is zero: k·P ≠ ∞ for 0 < k < n (the group order) on this prime-order curve.
    let mut prefix = Vec::with_capacity(n);
    let mut acc = *one();
    for j in &jac {
        prefix.push(acc);
        acc = mul(&acc, &j.z);
    }
    let mut inv = invert(&acc);
    let mut out = vec![
        Affine {
            x: [0; 4],
            y: [0; 4]
        };
        n
    ];
    for i in (0..n).rev() {
        let zi = mul(&inv, &prefix[i]);
        inv = mul(&inv, &jac[i].z);
        let zi2 = sqr(&zi);
        out[i] = Affine {
            x: mul(&jac[i].x, &zi2),
            y: mul(&jac[i].y, &mul(&zi2, &zi)),
        };
    }
    out
}

const G_WINDOW: u32 = 7;
const P_WINDOW: u32 = 5;

fn generator_table() -> &'static [Affine] {
    static TABLE: OnceLock<Vec<Affine>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let gx = from_be_bytes(&crate::sm2::GX).expect("Gx < p");
        let gy = from_be_bytes(&crate::sm2::GY).expect("Gy < p");
        odd_multiples(&Affine { x: gx, y: gy }, G_WINDOW)
    })
}

/// Width-`w` NAF of a 256-bit big-endian scalar: digits odd and below 2^(w−1) in
/// absolute value, at most one non-zero digit in any `w` consecutive positions.
fn wnaf(scalar: &[u8; 32], w: u32) -> [i8; 257] {
    let mut k = [0u64; 5];
    for (i, limb) in k.iter_mut().take(4).enumerate() {
        let o = 32 - 8 * (i + 1);
        *limb = u64::from_be_bytes(scalar[o..o + 8].try_into().expect("8 bytes"));
    }
    let mut naf = [0i8; 257];
    let window = 1i64 << w;
    let mut i = 0;
    while k.iter().any(|&l| l != 0) {
        if k[0] & 1 == 1 {
            let mut d = (k[0] & (window as u64 - 1)) as i64;
            if d >= window / 2 {
                d -= window;
            }
            naf[i] = d as i8;
            // k -= d
            if d > 0 {
                let (r, mut b) = sbb(k[0], d as u64, 0);
                k[0] = r;
                for l in k.iter_mut().skip(1) {
                    (*l, b) = sbb(*l, 0, b);
                }
            } else {
                let (r, mut c) = adc(k[0], (-d) as u64, 0);
                k[0] = r;
                for l in k.iter_mut().skip(1) {
                    (*l, c) = adc(*l, 0, c);
                }
            }
        }
        // k >>= 1
        for j in 0..4 {
            k[j] = (k[j] >> 1) | (k[j + 1] << 63);
        }
        k[4] >>= 1;
        i += 1;
    }
    naf
}

/// Whether affine `(x, y)` satisfies the SM2 curve equation `y² = x³ − 3x + b`.
fn on_curve(x: &Fe, y: &Fe) -> bool {
    static B: OnceLock<Fe> = OnceLock::new();
    let b = B.get_or_init(|| from_be_bytes(&crate::sm2::CURVE_B).expect("b < p"));
    let x3 = mul(&sqr(x), x);
    let three_x = add(&add(x, x), x);
    sqr(y) == add(&sub(&x3, &three_x), b)
}

/// The affine x coordinate (big-endian) of `[u1]G + [u2]Q`, or `None` at infinity or for
/// a `q` that is not a curve point. `q` is the public key as uncompressed SEC1
/// (`04 ‖ x ‖ y`); callers pass keys validated when parsed, and the curve equation is
/// checked again here (four field operations) so that no caller can make this compute
/// on a point of another curve.
pub(crate) fn lincomb_x(u1: &[u8; 32], u2: &[u8; 32], q_sec1: &[u8]) -> Option<[u8; 32]> {
    if q_sec1.len() != 65 || q_sec1[0] != 4 {
        return None;
    }
    let qx = from_be_bytes(q_sec1[1..33].try_into().expect("32 bytes"))?;
    let qy = from_be_bytes(q_sec1[33..65].try_into().expect("32 bytes"))?;
    if !on_curve(&qx, &qy) {
        return None;
    }
    let q_table = odd_multiples(&Affine { x: qx, y: qy }, P_WINDOW);
    let g_table = generator_table();
    let n1 = wnaf(u1, G_WINDOW);
    let n2 = wnaf(u2, P_WINDOW);
    let top = (0..257).rev().find(|&i| n1[i] != 0 || n2[i] != 0)?;
    let mut acc = Jacobian::INFINITY;
    for i in (0..=top).rev() {
        acc = acc.double();
        for (d, table) in [(n1[i], g_table), (n2[i], &q_table[..])] {
            if d != 0 {
                let pt = table[(d.unsigned_abs() as usize) / 2];
                let pt = if d > 0 {
                    pt
                } else {
                    Affine {
                        x: pt.x,
                        y: neg(&pt.y),
                    }
                };
                acc = acc.add_affine(&pt);
            }
        }
    }
    if acc.is_infinity() {
        return None;
    }
    let zi = invert(&acc.z);
    Some(to_be_bytes(&mul(&acc.x, &sqr(&zi))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path refuses points off the curve, the encoding of infinity and
    /// non-canonical coordinates by itself, not only through the callers' parsing.
    #[test]
    fn lincomb_refuses_points_off_the_curve() {
        let mut one_scalar = [0u8; 32];
        one_scalar[31] = 1;
        let g: Vec<u8> = [&[4u8][..], &crate::sm2::GX, &crate::sm2::GY].concat();
        assert_eq!(lincomb_x(&one_scalar, &[0u8; 32], &g), Some(crate::sm2::GX));
        assert!(lincomb_x(&one_scalar, &one_scalar, &g).is_some());
        let mut off = g.clone();
        off[64] ^= 1;
        assert_eq!(lincomb_x(&one_scalar, &one_scalar, &off), None);
        let zero_point = [&[4u8][..], &[0u8; 64]].concat();
        assert_eq!(lincomb_x(&one_scalar, &one_scalar, &zero_point), None);
        assert_eq!(lincomb_x(&one_scalar, &one_scalar, &[0u8]), None);
        let mut big_x = g.clone();
        big_x[1..33].copy_from_slice(&[0xff; 32]);
        assert_eq!(lincomb_x(&one_scalar, &one_scalar, &big_x), None);
    }

    #[test]
    fn field_roundtrip_and_inverse() {
        let mut b = [0u8; 32];
        b[5] = 7;
        b[31] = 99;
        let a = from_be_bytes(&b).unwrap();
        assert_eq!(to_be_bytes(&a), b);
        assert_eq!(to_be_bytes(&mul(&a, &invert(&a))), to_be_bytes(one()));
        let mut p_bytes = [0u8; 32];
        p_bytes.copy_from_slice(&to_be_bytes_raw(&P));
        assert!(
            from_be_bytes(&p_bytes).is_none(),
            "p itself is not canonical"
        );
        assert_eq!(to_be_bytes(&sub(&[0; 4], &neg(&a))), b);
    }

    fn to_be_bytes_raw(x: &Fe) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in x.iter().enumerate() {
            let o = 32 - 8 * (i + 1);
            out[o..o + 8].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    #[test]
    fn wnaf_reconstructs_the_scalar() {
        let mut seed = 0xdead_beef_u64;
        for _ in 0..200 {
            let s: [u8; 32] = std::array::from_fn(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            });
            for w in [5, 7] {
                let naf = wnaf(&s, w);
                // Σ d_i 2^i evaluated mod 2^264 with i128 chunks is awkward; rebuild with
                // big-endian byte arithmetic instead.
                let mut acc = [0i64; 40];
                for (i, &d) in naf.iter().enumerate() {
                    acc[i / 8] += (d as i64) << (i % 8);
                }
                let mut carry = 0i64;
                let mut bytes = [0u8; 40];
                for (i, a) in acc.iter().enumerate() {
                    let v = a + carry;
                    bytes[i] = v.rem_euclid(256) as u8;
                    carry = v.div_euclid(256);
                }
                let mut be = [0u8; 32];
                for i in 0..32 {
                    be[31 - i] = bytes[i];
                }
                assert_eq!(be, s);
                assert!(bytes[32..].iter().all(|&b| b == 0));
                assert!(naf
                    .iter()
                    .all(|&d| d == 0 || (d % 2 != 0 && (d as i32).abs() < (1 << (w - 1)))));
            }
        }
    }
}
