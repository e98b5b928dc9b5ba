//! FF1 format-preserving encryption (NIST SP 800-38G, section 5.1), generic over any
//! 128-bit block cipher.
//!
//! The construction is proven against the NIST sample vectors with AES in the tests, and
//! used with SM4 in production (`shuan-mask`'s format-preserving encryption). A cipher
//! mode, so it lives with the ciphers; [`crate::sm4::Sm4`] implements [`BlockCipher128`]. Arithmetic is done in `u128`, which bounds the length of
//! each half: `radix^ceil(n/2)` must stay below 2^120 (e.g. 72 digits, 40 alphanumerics,
//! 16 CJK characters). Longer inputs are refused rather than silently weakened.

/// Why FF1 refused its input (the radix, the length or the tweak; never key material).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Ff1Error(pub String);

type Result<T> = std::result::Result<T, Ff1Error>;

/// A 128-bit block cipher in the forward (encrypt) direction: all FF1 needs.
pub trait BlockCipher128 {
    /// Encrypt one 16-byte block in place.
    fn encrypt_block(&self, block: &mut [u8; 16]);
}

impl BlockCipher128 for crate::sm4::Sm4 {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        // The inherent method: SM4 in the forward direction.
        crate::sm4::Sm4::encrypt_block(self, block);
    }
}

/// Smallest domain the 2019 revision of SP 800-38G allows: radix^minlen >= 1,000,000.
pub const MIN_DOMAIN: u128 = 1_000_000;
const LIMIT: u128 = 1 << 120;

/// FF1 with a fixed key (the cipher) and radix.
pub struct Ff1<'c, C: BlockCipher128> {
    cipher: &'c C,
    radix: u32,
}

impl<'c, C: BlockCipher128> Ff1<'c, C> {
    /// FF1 over `cipher` for numerals in `0..radix` (2 ..= 65536).
    pub fn new(cipher: &'c C, radix: u32) -> Result<Self> {
        if !(2..=65536).contains(&radix) {
            return Err(Ff1Error(format!("radix {radix} outside 2..=65536")));
        }
        Ok(Ff1 { cipher, radix })
    }

    /// Encrypt numeral string `x` (each numeral < radix) under `tweak`.
    pub fn encrypt(&self, x: &[u16], tweak: &[u8]) -> Result<Vec<u16>> {
        self.run(x, tweak, true)
    }

    /// Decrypt numeral string `x` under `tweak`.
    pub fn decrypt(&self, x: &[u16], tweak: &[u8]) -> Result<Vec<u16>> {
        self.run(x, tweak, false)
    }

    /// radix^len, or None when it reaches the u128 working limit.
    fn pow(&self, len: usize) -> Option<u128> {
        let mut acc: u128 = 1;
        for _ in 0..len {
            acc = acc.checked_mul(self.radix as u128)?;
            if acc >= LIMIT {
                return None;
            }
        }
        Some(acc)
    }

    /// The longest numeral string this radix supports.
    pub fn max_len(&self) -> usize {
        let mut half = 1;
        while self.pow(half + 1).is_some() {
            half += 1;
        }
        half * 2
    }

    /// The shortest numeral string allowed (domain >= 1,000,000).
    pub fn min_len(&self) -> usize {
        let mut n = 1usize;
        let mut acc = self.radix as u128;
        while acc < MIN_DOMAIN {
            acc *= self.radix as u128;
            n += 1;
        }
        n.max(2)
    }

    fn check(&self, x: &[u16], tweak: &[u8]) -> Result<()> {
        let n = x.len();
        if n < self.min_len() {
            return Err(Ff1Error(format!(
                "{n} symbols is below the minimum of {} for radix {} (domain must be at least 1,000,000)",
                self.min_len(),
                self.radix
            )));
        }
        if n > self.max_len() {
            return Err(Ff1Error(format!(
                "{n} symbols is above the maximum of {} for radix {}",
                self.max_len(),
                self.radix
            )));
        }
        if x.iter().any(|&d| d as u32 >= self.radix) {
            return Err(Ff1Error(format!("numeral outside radix {}", self.radix)));
        }
        if tweak.len() > u32::MAX as usize {
            return Err(Ff1Error("tweak too long".into()));
        }
        Ok(())
    }

    fn num(&self, x: &[u16]) -> u128 {
        x.iter()
            .fold(0u128, |acc, &d| acc * self.radix as u128 + d as u128)
    }

    fn str_m(&self, mut v: u128, m: usize) -> Vec<u16> {
        let mut out = vec![0u16; m];
        for slot in out.iter_mut().rev() {
            *slot = (v % self.radix as u128) as u16;
            v /= self.radix as u128;
        }
        out
    }

    fn run(&self, x: &[u16], tweak: &[u8], encrypt: bool) -> Result<Vec<u16>> {
        self.check(x, tweak)?;
        let n = x.len();
        let u = n / 2;
        let v = n - u;
        let pow_u = self.pow(u).expect("checked by max_len");
        let pow_v = self.pow(v).expect("checked by max_len");
        // b = ceil(ceil(v * log2(radix)) / 8); ceil(log2(r^v)) = bit length of r^v - 1.
        let bits = 128 - (pow_v - 1).leading_zeros() as usize;
        let b = bits.div_ceil(8);
        let d = 4 * b.div_ceil(4) + 4;
        let t = tweak.len();

        let mut p = [0u8; 16];
        p[0] = 1;
        p[1] = 2;
        p[2] = 1;
        p[3..6].copy_from_slice(&self.radix.to_be_bytes()[1..4]);
        p[6] = 10;
        p[7] = (u % 256) as u8;
        p[8..12].copy_from_slice(&(n as u32).to_be_bytes());
        p[12..16].copy_from_slice(&(t as u32).to_be_bytes());
        // CBC-MAC state after the fixed block P, reused by every round.
        let mut p_state = p;
        self.cipher.encrypt_block(&mut p_state);

        let pad = (16 - ((t + b + 1) % 16)) % 16;
        let q_len = t + pad + 1 + b;
        let mut q = vec![0u8; q_len];
        q[..t].copy_from_slice(tweak);

        let mut a = self.num(&x[..u]);
        let mut bb = self.num(&x[u..]);
        let rounds: Vec<u8> = if encrypt {
            (0..10).collect()
        } else {
            (0..10).rev().collect()
        };
        for i in rounds {
            let m = if i % 2 == 0 { u } else { v };
            let modulus = if i % 2 == 0 { pow_u } else { pow_v };
            q[q_len - b - 1] = i;
            let feed = if encrypt { bb } else { a };
            q[q_len - b..].copy_from_slice(&feed.to_be_bytes()[16 - b..]);
            let mut r = p_state;
            for chunk in q.chunks_exact(16) {
                for (s, c) in r.iter_mut().zip(chunk) {
                    *s ^= c;
                }
                self.cipher.encrypt_block(&mut r);
            }
            // S = R || CIPH(R xor [1]) || ... truncated to d bytes; y = NUM(S) mod radix^m.
            let mut y: u128 = 0;
            let mut taken = 0usize;
            let mut j: u128 = 0;
            while taken < d {
                let block = if j == 0 {
                    r
                } else {
                    let mut blk = r;
                    for (s, c) in blk.iter_mut().zip(j.to_be_bytes()) {
                        *s ^= c;
                    }
                    self.cipher.encrypt_block(&mut blk);
                    blk
                };
                for &byte in block.iter().take(d - taken) {
                    // modulus < 2^120 so y * 256 + 255 cannot overflow.
                    y = (y * 256 + byte as u128) % modulus;
                }
                taken += 16.min(d - taken);
                j += 1;
            }
            let _ = m;
            if encrypt {
                let c = (a % modulus + y) % modulus;
                a = bb;
                bb = c;
            } else {
                let c = (bb % modulus + modulus - y) % modulus;
                bb = a;
                a = c;
            }
        }
        let mut out = self.str_m(a, u);
        out.extend(self.str_m(bb, v));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::{BlockEncrypt, KeyInit};

    struct Aes<C>(C);
    impl<C: BlockEncrypt<BlockSize = aes::cipher::consts::U16>> BlockCipher128 for Aes<C> {
        fn encrypt_block(&self, block: &mut [u8; 16]) {
            self.0
                .encrypt_block(aes::cipher::generic_array::GenericArray::from_mut_slice(
                    block,
                ));
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn numerals(s: &str, radix: u32) -> Vec<u16> {
        s.chars()
            .map(|c| c.to_digit(radix).unwrap() as u16)
            .collect()
    }

    fn render(x: &[u16], radix: u32) -> String {
        x.iter()
            .map(|&d| char::from_digit(d as u32, radix).unwrap())
            .collect()
    }

    fn check<C: BlockCipher128>(c: &C, radix: u32, tweak: &str, pt: &str, ct: &str) {
        let ff1 = Ff1::new(c, radix).unwrap();
        let x = numerals(pt, radix);
        let t = hex(tweak);
        let got = ff1.encrypt(&x, &t).unwrap();
        assert_eq!(render(&got, radix), ct);
        assert_eq!(ff1.decrypt(&got, &t).unwrap(), x);
    }

    // NIST SP 800-38G FF1 samples 1-9 (csrc.nist.gov, "FF1samples.pdf").
    const K128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
    const K192: &str = "2b7e151628aed2a6abf7158809cf4f3cef4359d8d580aa4f";
    const K256: &str = "2b7e151628aed2a6abf7158809cf4f3cef4359d8d580aa4f7f036d6f04fc6a94";
    const T10: &str = "39383736353433323130";
    const T11: &str = "3737373770717273373737";

    #[test]
    fn nist_ff1_aes128_samples() {
        let c = Aes(aes::Aes128::new_from_slice(&hex(K128)).unwrap());
        check(&c, 10, "", "0123456789", "2433477484");
        check(&c, 10, T10, "0123456789", "6124200773");
        check(&c, 36, T11, "0123456789abcdefghi", "a9tv40mll9kdu509eum");
    }

    #[test]
    fn nist_ff1_aes192_samples() {
        let c = Aes(aes::Aes192::new_from_slice(&hex(K192)).unwrap());
        check(&c, 10, "", "0123456789", "2830668132");
        check(&c, 10, T10, "0123456789", "2496655549");
        check(&c, 36, T11, "0123456789abcdefghi", "xbj3kv35jrawxv32ysr");
    }

    #[test]
    fn nist_ff1_aes256_samples() {
        let c = Aes(aes::Aes256::new_from_slice(&hex(K256)).unwrap());
        check(&c, 10, "", "0123456789", "6657667009");
        check(&c, 10, T10, "0123456789", "1001623463");
        check(&c, 36, T11, "0123456789abcdefghi", "xs8a0azh2avyalyzuwd");
    }

    #[test]
    fn limits_are_enforced() {
        let c = Aes(aes::Aes128::new_from_slice(&hex(K128)).unwrap());
        let ff1 = Ff1::new(&c, 10).unwrap();
        assert_eq!(ff1.min_len(), 6);
        assert!(ff1.encrypt(&[1, 2, 3], b"").is_err());
        assert!(ff1.encrypt(&vec![1; ff1.max_len() + 1], b"").is_err());
        assert!(ff1.encrypt(&vec![1; ff1.max_len()], b"").is_ok());
        assert!(ff1.encrypt(&[1, 2, 3, 4, 5, 11], b"").is_err());
        assert!(Ff1::new(&c, 1).is_err());
        let cjk = Ff1::new(&c, 20902).unwrap();
        assert_eq!(cjk.min_len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn roundtrip_any_radix(radix in 2u32..70000, len in 0usize..80, seed in proptest::prelude::any::<u64>(), tweak in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let c = Aes(aes::Aes128::new_from_slice(&hex(K128)).unwrap());
            if let Ok(ff1) = Ff1::new(&c, radix) {
                let mut s = seed;
                let x: Vec<u16> = (0..len).map(|_| { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((s >> 33) % radix as u64) as u16 }).collect();
                if let Ok(y) = ff1.encrypt(&x, &tweak) {
                    proptest::prop_assert_eq!(y.len(), x.len());
                    proptest::prop_assert!(y.iter().all(|&d| (d as u32) < radix));
                    proptest::prop_assert_eq!(ff1.decrypt(&y, &tweak).unwrap(), x);
                }
            }
        }
    }
}
