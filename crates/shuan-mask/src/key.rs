//! The masking key and the keyed primitives derived from it.
//!
//! One 32-byte master key yields independent subkeys (HMAC-SM3 with a purpose label) for
//! pseudonyms, FPE (SM4), date shifts, numeric noise and watermarks, so a leak of one
//! derived value never exposes another purpose. Until the keyring (`shuan keys`) hands out
//! masking keys, the key comes from a hex file with mode 0600.

use std::path::Path;

use shuan_crypto::hmac::{hmac_sm3, HmacSm3};
use shuan_crypto::keyring::{Keyring, KeyringError};
use shuan_crypto::sm4::Sm4;
use zeroize::Zeroizing;

use crate::error::{MaskError, Result};
use crate::ff1::BlockCipher128;

/// Id of the keyring data key that masking uses unless told otherwise.
pub const DEFAULT_MASK_KEY_ID: &str = "mask";

/// Where the masking key came from, for the masking log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// A hex key file.
    File(String),
    /// A keyring data key (id, version).
    Keyring(String, u32),
}

impl KeyOrigin {
    /// As recorded in the ledger.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            KeyOrigin::File(p) => serde_json::json!({ "file": p }),
            KeyOrigin::Keyring(id, v) => serde_json::json!({ "keyring": id, "version": v }),
        }
    }
}

/// Why the masking key could not be had from the keyring.
#[derive(Debug, thiserror::Error)]
pub enum MaskKeyError {
    /// Creating the data key on first use failed.
    #[error("creating the masking data key '{0}' in the keyring")]
    Create(String, #[source] KeyringError),
    /// The data key could not be read.
    #[error("masking key '{0}'")]
    Key(String, #[source] KeyringError),
    /// Another keyring failure.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
}

/// A masking key taken from the keyring.
pub struct KeyringMaskKey {
    /// The keys.
    pub keys: MaskKeys,
    /// Which data key and version.
    pub origin: KeyOrigin,
    /// The data key was created just now (first use): the caller should say so, since
    /// FPE cannot be reversed without it.
    pub created: bool,
}

/// The masking key from an open keyring: version `version` of data key `key_id`, or its
/// active version; when the key does not exist yet it is created if `create` (masking),
/// else the answer is `None` (an unkeyed scenario, a dry run, unmasking: the caller
/// judges). The 32-byte masking master key is HMAC-SM3(data key, label), so the data key
/// itself never leaves the keyring module, and destroying it makes every pseudonym and
/// FPE value of that key irreversible for good. The use case behind `shuan mask` and the
/// server's masking jobs alike.
pub fn keyring_mask_key(
    keyring: &mut Keyring,
    key_id: &str,
    version: Option<u32>,
    create: bool,
) -> std::result::Result<Option<KeyringMaskKey>, MaskKeyError> {
    let mut created = false;
    let (version, data_key) = match version {
        Some(v) => (v, keyring.key(key_id, v)?),
        None => match keyring.active_key(key_id) {
            Ok(k) => k,
            Err(KeyringError::KeyNotFound(_)) if create => {
                match keyring.create_key(key_id) {
                    Ok(()) => created = true,
                    // Another process made it between our read and our write (the
                    // keyring re-read itself under its lock): use that one.
                    Err(KeyringError::KeyExists(_)) => {}
                    Err(e) => return Err(MaskKeyError::Create(key_id.to_string(), e)),
                }
                keyring.active_key(key_id)?
            }
            Err(KeyringError::KeyNotFound(_)) => return Ok(None),
            Err(e) => return Err(MaskKeyError::Key(key_id.to_string(), e)),
        },
    };
    Ok(Some(KeyringMaskKey {
        keys: MaskKeys::from_keyring_data_key(&data_key),
        origin: KeyOrigin::Keyring(key_id.to_string(), version),
        created,
    }))
}

/// Keyed primitives for masking. Debug never prints key material.
pub struct MaskKeys {
    pseudonym: HmacSm3,
    fpe: Sm4,
    date_shift: HmacSm3,
    noise: HmacSm3,
    watermark: HmacSm3,
    fingerprint: [u8; 8],
}

impl std::fmt::Debug for MaskKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MaskKeys {{ fingerprint: {} }}", self.fingerprint())
    }
}

/// Label deriving the masking master key from a keyring data key. Changing it changes
/// every pseudonym and makes every FPE extract irreversible (pinned by the golden vectors
/// in `tests/golden.rs`).
pub const KEYRING_MASTER_LABEL: &[u8] = b"shuan-mask/v1/keyring-master";

/// SM4 as the block cipher under FF1.
pub struct Sm4Block<'a>(pub &'a Sm4);

impl BlockCipher128 for Sm4Block<'_> {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        self.0.encrypt_block(block);
    }
}

impl MaskKeys {
    /// Derive every subkey from a 32-byte master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        let derive = |label: &str| Zeroizing::new(hmac_sm3(master, label.as_bytes()));
        let fpe_full = derive("shuan-mask/v1/fpe-sm4");
        let mut fpe_key = Zeroizing::new([0u8; 16]);
        fpe_key.copy_from_slice(&fpe_full[..16]);
        let fp = hmac_sm3(master, b"shuan-mask/v1/fingerprint");
        let mut fingerprint = [0u8; 8];
        fingerprint.copy_from_slice(&fp[..8]);
        MaskKeys {
            pseudonym: HmacSm3::new(&derive("shuan-mask/v1/pseudonym")[..]),
            fpe: Sm4::new(&fpe_key),
            date_shift: HmacSm3::new(&derive("shuan-mask/v1/date-shift")[..]),
            noise: HmacSm3::new(&derive("shuan-mask/v1/noise")[..]),
            watermark: HmacSm3::new(&derive("shuan-mask/v1/watermark")[..]),
            fingerprint,
        }
    }

    /// The masking keys of a keyring data key (`shuan keys`, id `mask` by default): the
    /// 32-byte master is HMAC-SM3(data key, [`KEYRING_MASTER_LABEL`]), so the data key
    /// itself never leaves the keyring, and destroying it makes every pseudonym and FPE
    /// value of that key irreversible for good.
    pub fn from_keyring_data_key(data_key: &[u8; 16]) -> Self {
        let master = Zeroizing::new(hmac_sm3(&data_key[..], KEYRING_MASTER_LABEL));
        MaskKeys::from_master(&master)
    }

    /// Parse 64 hex digits (whitespace ignored).
    pub fn from_hex(text: &str, origin: &str) -> Result<Self> {
        let clean: Zeroizing<String> =
            Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
        if clean.len() != 64 || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(MaskError::Key {
                path: origin.to_string(),
                reason: "expected exactly 64 hex digits (32 bytes); create one with `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > mask.key && chmod 600 mask.key`".into(),
            });
        }
        let mut master = Zeroizing::new([0u8; 32]);
        for (i, byte) in master.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&clean[2 * i..2 * i + 2], 16).expect("checked hex");
        }
        Ok(Self::from_master(&master))
    }

    /// Load a hex key file, refusing files readable by group or others.
    pub fn load_file(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| MaskError::Key {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(MaskError::Key {
                    path: shown,
                    reason: format!(
                        "mode {:o} lets other users read the key; run `chmod 600 {}`",
                        meta.permissions().mode() & 0o777,
                        path.display()
                    ),
                });
            }
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| MaskError::Key {
            path: shown.clone(),
            reason: e.to_string(),
        })?);
        Self::from_hex(&text, &shown)
    }

    /// A short public identifier of the key (first 8 bytes of a keyed hash), safe to log.
    pub fn fingerprint(&self) -> String {
        self.fingerprint
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Keyed hash for pseudonyms.
    pub fn pseudonym_mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        mac(&self.pseudonym, parts)
    }
    /// [`MaskKeys::pseudonym_mac`]`(&[namespace, v])` for every `v` of `values`, into
    /// `out` (cleared first), computed side by side in vector lanes
    /// ([`HmacSm3::mac_many`]): a masking job hashes a batch's values of one column at
    /// once, several times faster than one by one.
    pub fn pseudonym_macs<'v>(
        &self,
        namespace: &[u8],
        values: impl IntoIterator<Item = &'v [u8]>,
        out: &mut Vec<[u8; 32]>,
    ) {
        // The messages `mac` would hash, one after the other in one buffer (zeroized when
        // dropped); `bounds` holds where each starts and, last, where the final one ends.
        let mut arena = Zeroizing::new(Vec::new());
        let mut bounds = vec![0];
        for v in values {
            let parts = [namespace, v];
            let at = arena.len();
            arena.resize(at + encoded_len(&parts), 0);
            encode_parts(&parts, &mut arena[at..]);
            bounds.push(arena.len());
        }
        let msgs: Vec<&[u8]> = bounds.windows(2).map(|w| &arena[w[0]..w[1]]).collect();
        out.clear();
        out.resize(msgs.len(), [0; 32]);
        self.pseudonym.mac_many(&msgs, out);
    }
    /// Keyed hash for date shifts.
    pub fn date_shift_mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        mac(&self.date_shift, parts)
    }
    /// Keyed hash for numeric noise.
    pub fn noise_mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        mac(&self.noise, parts)
    }
    /// Keyed hash for watermark bits.
    pub fn watermark_mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        mac(&self.watermark, parts)
    }
    /// The FF1 block cipher (SM4).
    pub fn fpe_cipher(&self) -> Sm4Block<'_> {
        Sm4Block(&self.fpe)
    }
}

/// Length of the message `mac` hashes for `parts`.
fn encoded_len(parts: &[&[u8]]) -> usize {
    parts.iter().map(|p| 4 + p.len()).sum()
}

/// The message `mac` hashes: each part preceded by its length (u32, big-endian), so
/// ("ab","c") and ("a","bc") differ. `dst` is exactly [`encoded_len`] bytes.
fn encode_parts(parts: &[&[u8]], dst: &mut [u8]) {
    let mut at = 0;
    for p in parts {
        dst[at..at + 4].copy_from_slice(&(p.len() as u32).to_be_bytes());
        dst[at + 4..at + 4 + p.len()].copy_from_slice(p);
        at += 4 + p.len();
    }
}

/// HMAC over length-prefixed parts ([`encode_parts`]).
fn mac(base: &HmacSm3, parts: &[&[u8]]) -> [u8; 32] {
    // Short messages (a namespace and an ID number) are laid out on the stack and MACed
    // in one call; the value is zeroized afterwards like the hasher's buffer would be.
    let len = encoded_len(parts);
    let mut buf = [0u8; 64];
    if len <= buf.len() {
        encode_parts(parts, &mut buf[..len]);
        let tag = base.mac(&buf[..len]);
        zeroize::Zeroize::zeroize(&mut buf[..len]);
        return tag;
    }
    let mut m = base.clone();
    for p in parts {
        m.update(&(p.len() as u32).to_be_bytes());
        m.update(p);
    }
    m.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_another_process_created_meanwhile_is_used_not_refused() {
        use shuan_crypto::keyring::KekSource;
        let dir = tempfile::tempdir().unwrap();
        Keyring::init(dir.path(), KekSource::File).unwrap();
        // Two handles opened before either made the key, as two `shuan mask` would.
        let mut first = Keyring::open(dir.path(), || None).unwrap();
        let mut second = Keyring::open(dir.path(), || None).unwrap();
        let a = keyring_mask_key(&mut first, "mask", None, true)
            .unwrap()
            .unwrap();
        assert!(a.created);
        let b = keyring_mask_key(&mut second, "mask", None, true)
            .unwrap()
            .unwrap();
        assert!(!b.created);
        assert_eq!(a.keys.fingerprint(), b.keys.fingerprint());
    }

    #[test]
    fn hex_parsing_and_fingerprint() {
        let k = MaskKeys::from_hex(&"ab".repeat(32), "test").unwrap();
        let k2 = MaskKeys::from_hex(&"AB".repeat(32), "test").unwrap();
        assert_eq!(k.fingerprint(), k2.fingerprint());
        assert!(MaskKeys::from_hex("abc", "t").is_err());
        assert!(!format!("{k:?}").contains("abab"));
        assert_ne!(k.pseudonym_mac(&[b"a"]), k.noise_mac(&[b"a"]));
        assert_ne!(
            k.pseudonym_mac(&[b"ab", b"c"]),
            k.pseudonym_mac(&[b"a", b"bc"])
        );
    }

    #[test]
    fn pseudonym_macs_equal_one_by_one() {
        let k = MaskKeys::from_hex(&"5a".repeat(32), "test").unwrap();
        let values: Vec<String> = (0..300).map(|i| "9".repeat(i % 90)).collect();
        let mut tags = Vec::new();
        k.pseudonym_macs(b"id", values.iter().map(|v| v.as_bytes()), &mut tags);
        assert_eq!(tags.len(), values.len());
        for (v, t) in values.iter().zip(&tags) {
            assert_eq!(*t, k.pseudonym_mac(&[b"id", v.as_bytes()]));
        }
        k.pseudonym_macs(b"id", std::iter::empty(), &mut tags);
        assert!(tags.is_empty());
    }

    #[test]
    fn short_and_long_messages_mac_the_same_layout() {
        let base = HmacSm3::new(b"subkey");
        let value = [7u8; 80];
        for ns in [0usize, 3, 20] {
            for n in [0usize, 18, 47, 48, 55, 56, 57, 80] {
                let parts: [&[u8]; 2] = [&value[..ns], &value[..n]];
                let mut m = base.clone();
                for p in parts {
                    m.update(&(p.len() as u32).to_be_bytes());
                    m.update(p);
                }
                assert_eq!(mac(&base, &parts), m.finalize(), "ns {ns} value {n}");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn key_file_mode_is_checked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, "01".repeat(32)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = MaskKeys::load_file(&p).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(MaskKeys::load_file(&p).is_ok());
    }
}
