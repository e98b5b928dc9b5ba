//! SM2 public-key cryptography (GB/T 32918-2016) on the curve sm2p256v1: key pairs as
//! PKCS#8 / SPKI PEM (readable by OpenSSL), signatures with the user ID hash `Z`
//! (default ID `1234567812345678`, DER encoded as OpenSSL writes them), and public-key
//! encryption with the C1‖C3‖C2 layout.
//!
//! Backed by RustCrypto's `sm2` crate.

use ::sm2::dsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use ::sm2::elliptic_curve::sec1::ToSec1Point as _;
use ::sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use zeroize::Zeroizing;

use crate::sm3::Sm3;
use crate::CryptoError;

/// The default SM2 distinguishing identifier (GB/T 35276-2017, OpenSSL's `distid`).
pub const DEFAULT_ID: &str = "1234567812345678";

/// An SM2 private key used for signing and decryption. Zeroized on drop; its `Debug`
/// prints only the public key.
#[derive(Clone)]
pub struct SigningKey {
    secret: ::sm2::SecretKey,
    dsa: ::sm2::dsa::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &hex(&self.verifying_key().to_sec1_bytes()))
            .finish_non_exhaustive()
    }
}

use crate::hex::encode as hex;

impl SigningKey {
    /// A fresh key from the operating system's random generator.
    ///
    /// # Panics
    /// Only if the OS random generator is unavailable (use [`SigningKey::try_generate`]
    /// to handle that).
    pub fn generate() -> Self {
        Self::try_generate().expect("operating system random number generator failed")
    }

    /// A fresh key from the operating system's random generator.
    pub fn try_generate() -> Result<Self, CryptoError> {
        loop {
            let bytes = Zeroizing::new(crate::rand::bytes::<32>()?);
            // Out-of-range scalars (>= n-1 or zero) are rejected; retry (probability ~2^-32).
            if let Ok(k) = Self::from_bytes(&bytes) {
                return Ok(k);
            }
        }
    }

    /// The key with private scalar `d` (32 big-endian bytes, 1 <= d < n-1).
    pub fn from_bytes(d: &[u8; 32]) -> Result<Self, CryptoError> {
        let secret = ::sm2::SecretKey::from_slice(d)
            .map_err(|_| CryptoError::InvalidKey("SM2 private scalar out of range"))?;
        Self::from_secret(secret)
    }

    fn from_secret(secret: ::sm2::SecretKey) -> Result<Self, CryptoError> {
        let dsa = ::sm2::dsa::SigningKey::new(DEFAULT_ID, &secret)
            .map_err(|_| CryptoError::InvalidKey("SM2 private scalar out of range"))?;
        Ok(SigningKey { secret, dsa })
    }

    /// Parse a PKCS#8 `PRIVATE KEY` PEM (as written by `openssl genpkey -algorithm SM2`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CryptoError> {
        let secret =
            ::sm2::SecretKey::from_pkcs8_pem(pem).map_err(|e| CryptoError::InvalidPem {
                expected: "SM2 PKCS#8 private key",
                reason: e.to_string(),
            })?;
        Self::from_secret(secret)
    }

    /// Encode as a PKCS#8 `PRIVATE KEY` PEM (OIDs id-ecPublicKey + sm2p256v1).
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        self.secret
            .to_pkcs8_pem(LineEnding::LF)
            .expect("encoding a valid SM2 key as PKCS#8 cannot fail")
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey {
            inner: self.dsa.verifying_key().clone(),
        }
    }

    /// Sign `msg` with the default user ID (digest `e = SM3(Z ‖ msg)`).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        let mut h = self.verifying_key().message_hasher();
        h.update(msg);
        self.sign_digest(&h.finalize())
    }

    /// Sign a precomputed `e = SM3(Z ‖ M)` (from [`VerifyingKey::message_hasher`]), so
    /// that large files can be signed while streaming them.
    pub fn sign_digest(&self, e: &[u8; 32]) -> Signature {
        let sig = self
            .dsa
            .sign_prehash(e)
            .expect("SM2 signing of a 32-byte digest with a valid key cannot fail");
        Signature { inner: sig }
    }

    /// Decrypt an SM2 ciphertext in C1‖C3‖C2 layout (C1 uncompressed, `04‖x‖y`).
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let dk = ::sm2::pke::DecryptingKey::new_with_mode(
            self.secret.to_nonzero_scalar(),
            ::sm2::pke::Mode::C1C3C2,
        );
        dk.decrypt(ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Sm2DecryptFailed)
    }

    /// The private scalar `d`, big-endian (for key wrapping; handle with care).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes().into())
    }
}

/// An SM2 public key that verifies signatures and encrypts.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: ::sm2::dsa::VerifyingKey,
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_sec1_bytes() == other.to_sec1_bytes()
    }
}

impl Eq for VerifyingKey {}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("VerifyingKey")
            .field(&hex(&self.to_sec1_bytes()))
            .finish()
    }
}

impl VerifyingKey {
    /// Parse an SPKI `PUBLIC KEY` PEM (as written by `openssl pkey -pubout`).
    pub fn from_public_key_pem(pem: &str) -> Result<Self, CryptoError> {
        let pk =
            ::sm2::PublicKey::from_public_key_pem(pem).map_err(|e| CryptoError::InvalidPem {
                expected: "SM2 public key (SubjectPublicKeyInfo)",
                reason: e.to_string(),
            })?;
        Self::from_public(pk)
    }

    fn from_public(pk: ::sm2::PublicKey) -> Result<Self, CryptoError> {
        let inner = ::sm2::dsa::VerifyingKey::new(DEFAULT_ID, pk)
            .map_err(|_| CryptoError::InvalidKey("SM2 public key rejected"))?;
        Ok(VerifyingKey { inner })
    }

    /// Parse an uncompressed (`04‖x‖y`) or compressed SEC1 point.
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let pk = ::sm2::PublicKey::from_sec1_bytes(bytes)
            .map_err(|_| CryptoError::InvalidKey("not a point on the SM2 curve"))?;
        Self::from_public(pk)
    }

    /// Encode as an SPKI `PUBLIC KEY` PEM.
    pub fn to_public_key_pem(&self) -> String {
        let pk: ::sm2::PublicKey = (&self.inner).into();
        pk.to_public_key_pem(LineEnding::LF)
            .expect("encoding a valid SM2 public key cannot fail")
    }

    /// The uncompressed SEC1 encoding `04‖x‖y` (65 bytes).
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        self.inner
            .as_affine()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }

    /// `Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)` for the default ID.
    pub fn z(&self) -> [u8; 32] {
        let id = DEFAULT_ID.as_bytes();
        let mut h = Sm3::new();
        h.update(&((id.len() * 8) as u16).to_be_bytes());
        h.update(id);
        h.update(&CURVE_A);
        h.update(&CURVE_B);
        h.update(&GX);
        h.update(&GY);
        h.update(&self.to_sec1_bytes()[1..]);
        h.finalize()
    }

    /// An SM3 hasher already fed with `Z`: feed it the message and pass the result to
    /// [`SigningKey::sign_digest`] or [`VerifyingKey::verify_digest`].
    pub fn message_hasher(&self) -> Sm3 {
        let mut h = Sm3::new();
        h.update(&self.z());
        h
    }

    /// Verify `sig` over `msg` with the default user ID.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        let mut h = self.message_hasher();
        h.update(msg);
        self.verify_digest(&h.finalize(), sig)
    }

    /// Verify `sig` over a precomputed `e = SM3(Z ‖ M)` (GB/T 32918.2 §7.1 B1–B7).
    ///
    /// Uses the variable-time interleaved-wNAF verifier in `sm2_verify` (all inputs are
    /// public), which is several times faster than the constant-time generic code.
    pub fn verify_digest(&self, e: &[u8; 32], sig: &Signature) -> Result<(), CryptoError> {
        use ::sm2::elliptic_curve::ff::PrimeField as _;
        use ::sm2::elliptic_curve::ops::Reduce as _;
        // B1/B2: r, s in [1, n-1] was checked when the signature was parsed.
        let r = sig.inner.r();
        let s = sig.inner.s();
        // B5: t = r + s mod n, t != 0.
        let t = *r + *s;
        if bool::from(t.is_zero()) {
            return Err(CryptoError::BadSignature);
        }
        // B6: (x1, y1) = [s]G + [t]P.
        let s_bytes: [u8; 32] = s.to_repr().into();
        let t_bytes: [u8; 32] = t.to_repr().into();
        let x1 = crate::sm2_verify::lincomb_x(&s_bytes, &t_bytes, &self.to_sec1_bytes())
            .ok_or(CryptoError::BadSignature)?;
        // B7: R = (e + x1) mod n must equal r.
        let e_s = ::sm2::Scalar::reduce(&::sm2::FieldBytes::from(*e));
        let x_s = ::sm2::Scalar::reduce(&::sm2::FieldBytes::from(x1));
        if e_s + x_s == *r {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// The RustCrypto `sm2` crate's constant-time verifier, kept as the reference the
    /// fast path is tested against.
    pub fn verify_digest_reference(
        &self,
        e: &[u8; 32],
        sig: &Signature,
    ) -> Result<(), CryptoError> {
        self.inner
            .verify_prehash(e, &sig.inner)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// Encrypt `msg` to this key; output C1‖C3‖C2 with C1 uncompressed.
    pub fn encrypt(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let pk: ::sm2::PublicKey = (&self.inner).into();
        let ek = ::sm2::pke::EncryptingKey::new_with_mode(pk, ::sm2::pke::Mode::C1C3C2);
        let mut rng = getrandom::SysRng;
        ek.encrypt(&mut rng, msg)
            .map_err(|e| CryptoError::Random(format!("SM2 encryption failed: {e}")))
    }
}

/// An SM2 signature (r, s).
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    inner: ::sm2::dsa::Signature,
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", hex(&self.to_der()))
    }
}

impl Signature {
    /// DER `SEQUENCE { r INTEGER, s INTEGER }`, as OpenSSL writes it.
    pub fn to_der(&self) -> Vec<u8> {
        self.inner.to_der().to_vec()
    }

    /// Parse a DER signature.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        ::sm2::dsa::Signature::from_der(der)
            .map(|inner| Signature { inner })
            .map_err(|_| CryptoError::MalformedSignature)
    }

    /// `r ‖ s`, 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.inner.to_bytes().into()
    }

    /// Parse `r ‖ s` (64 bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        ::sm2::dsa::Signature::from_slice(bytes)
            .map(|inner| Signature { inner })
            .map_err(|_| CryptoError::MalformedSignature)
    }
}

const CURVE_A: [u8; 32] =
    crate::hex::decode_const("fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc");
pub(crate) const CURVE_B: [u8; 32] =
    crate::hex::decode_const("28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93");
pub(crate) const GX: [u8; 32] =
    crate::hex::decode_const("32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7");
pub(crate) const GY: [u8; 32] =
    crate::hex::decode_const("bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0");

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        crate::hex::decode(s).unwrap()
    }

    // Vectors: /work/shared/standards/test_vectors.json "sm2_sign_example_recommended_curve".
    const D: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
    const PX: &str = "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020";
    const PY: &str = "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";

    fn example_key() -> SigningKey {
        SigningKey::from_bytes(&unhex(D).try_into().unwrap()).unwrap()
    }

    #[test]
    fn standard_example_public_key_and_z() {
        let vk = example_key().verifying_key();
        assert_eq!(hex(&vk.to_sec1_bytes()), format!("04{PX}{PY}"));
        assert_eq!(
            hex(&vk.z()),
            "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
        );
        let mut h = vk.message_hasher();
        h.update(b"message digest");
        assert_eq!(
            hex(&h.finalize()),
            "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
        );
    }

    #[test]
    fn standard_example_signature_verifies() {
        let vk = VerifyingKey::from_sec1_bytes(&unhex(&format!("04{PX}{PY}"))).unwrap();
        let der = unhex("3046022100f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3022100b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa");
        let sig = Signature::from_der(&der).unwrap();
        assert_eq!(sig.to_der(), der);
        vk.verify(b"message digest", &sig).unwrap();
        assert!(matches!(
            vk.verify(b"message digesT", &sig),
            Err(CryptoError::BadSignature)
        ));
    }

    #[test]
    fn standard_example_ciphertext_decrypts() {
        // "sm2_encrypt_example_recommended_curve": C1‖C3‖C2.
        let ct = unhex(concat!(
            "04",
            "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73",
            "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0",
            "59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766",
            "21886ca989ca9c7d58087307ca93092d651efa"
        ));
        let pt = example_key().decrypt(&ct).unwrap();
        assert_eq!(&pt[..], b"encryption standard");
        let mut bad = ct.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(example_key().decrypt(&bad).is_err());
    }

    #[test]
    fn sign_verify_encrypt_roundtrip_and_pem() {
        let k = SigningKey::generate();
        let pem = k.to_pkcs8_pem();
        let k2 = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(k.verifying_key(), k2.verifying_key());
        let vk = VerifyingKey::from_public_key_pem(&k.verifying_key().to_public_key_pem()).unwrap();
        let sig = k2.sign(b"hello");
        vk.verify(b"hello", &sig).unwrap();
        assert!(vk.verify(b"hellO", &sig).is_err());
        let ct = vk.encrypt(b"secret").unwrap();
        assert_eq!(&k.decrypt(&ct).unwrap()[..], b"secret");
        assert!(!format!("{k:?}").contains(&hex(&k.to_bytes()[..])));
    }

    /// The fast verifier agrees with the reference on valid signatures, altered
    /// digests, altered signatures and signatures by other keys.
    #[test]
    fn fast_verify_agrees_with_reference() {
        let mut seed = 0x1357_9bdf_2468_ace0u64;
        let mut rnd32 = || -> [u8; 32] {
            std::array::from_fn(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
        };
        for i in 0..40 {
            let k = SigningKey::generate();
            let vk = k.verifying_key();
            let e = rnd32();
            let sig = k.sign_digest(&e);
            assert!(vk.verify_digest(&e, &sig).is_ok());
            assert!(vk.verify_digest_reference(&e, &sig).is_ok());
            let mut e2 = e;
            e2[i % 32] ^= 1 << (i % 8);
            assert!(vk.verify_digest(&e2, &sig).is_err());
            let mut b = sig.to_bytes();
            b[(i * 7) % 64] ^= 0x10;
            if let Ok(bad) = Signature::from_bytes(&b) {
                assert_eq!(
                    vk.verify_digest(&e, &bad).is_ok(),
                    vk.verify_digest_reference(&e, &bad).is_ok()
                );
                assert!(vk.verify_digest(&e, &bad).is_err());
            }
            let other = SigningKey::generate().verifying_key();
            assert!(other.verify_digest(&e, &sig).is_err());
            // Random (r, s): both reject.
            if let Ok(rs) = Signature::from_bytes(&[rnd32(), rnd32()].concat()) {
                assert!(vk.verify_digest(&e, &rs).is_err());
                assert!(vk.verify_digest_reference(&e, &rs).is_err());
            }
        }
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        assert!(SigningKey::from_pkcs8_pem("nope").is_err());
        assert!(VerifyingKey::from_public_key_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        )
        .is_err());
        assert!(Signature::from_der(&[0x30, 0x02, 0x02, 0x00]).is_err());
        assert!(example_key().decrypt(&[4u8; 10]).is_err());
    }
}
