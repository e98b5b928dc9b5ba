//! The keyring (密钥管理): a master key (KEK) and versioned data keys wrapped by it.
//!
//! * The KEK comes from a 32-byte file with mode 0600 (`DATA_DIR/keys/kek.key`) or from
//!   a passphrase through Argon2id; it only ever wraps, unwraps and MACs, behind the
//!   [`Kek`] trait so that a hardware security module (PKCS#11, GM/T 0018 SDF) can take
//!   its place.
//! * Data keys (16-byte SM4 keys) are wrapped with SM4-GCM under a key derived from the
//!   KEK, with the key id and version bound as associated data.
//! * `rotate` adds a version (new data is encrypted under it; old versions still decrypt).
//! * `destroy` erases the wrapped key material of a key (crypto-shredding, R-26) and then
//!   replaces the KEK and re-wraps every remaining key, so copies of the old keyring file
//!   become useless too once the old KEK file is gone.
//! * The keyring file (`DATA_DIR/keys/keyring.json`) carries an HMAC-SM3 under the KEK;
//!   any edit is detected when it is opened.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::hmac::HmacSm3;
use crate::modes::Sm4Gcm;
use crate::CryptoError;

/// Keyring file format identifier.
pub const FORMAT: &str = "shuan-keyring-1";
/// Id of the data key created by `init` and used when no `--key-id` is given.
pub const DEFAULT_KEY_ID: &str = "default";

/// Errors of keyring operations. None carries key material.
#[derive(thiserror::Error, Debug)]
pub enum KeyringError {
    /// `init` found an existing keyring.
    #[error("a keyring already exists at {0}; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    /// No keyring in the data directory.
    #[error("no keyring at {0}; create one with `shuan keys init`")]
    NotInitialised(PathBuf),
    /// The keyring's MAC does not verify.
    #[error("keyring {0} failed its integrity check: wrong master key/passphrase, or the file was altered")]
    IntegrityFailed(PathBuf),
    /// The keyring file is not valid JSON of the expected shape.
    #[error("keyring {path} is malformed: {reason}")]
    Malformed {
        /// The keyring file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No key with that id.
    #[error("no data key '{0}' in the keyring (see `shuan keys list`)")]
    KeyNotFound(String),
    /// A key with that id already exists.
    #[error("data key '{0}' already exists")]
    KeyExists(String),
    /// The key id has characters we do not allow.
    #[error("invalid key id '{0}': use 1-64 characters from a-z, A-Z, 0-9, '-', '_', '.'")]
    InvalidKeyId(String),
    /// No such version.
    #[error("data key '{id}' has no version {version}")]
    VersionNotFound {
        /// Key id.
        id: String,
        /// Missing version.
        version: u32,
    },
    /// The version was crypto-shredded.
    #[error("data key '{id}' version {version} was destroyed at {at}; data encrypted under it is unrecoverable")]
    Destroyed {
        /// Key id.
        id: String,
        /// Destroyed version.
        version: u32,
        /// When.
        at: String,
    },
    /// A passphrase was needed but none was given.
    #[error("the keyring's master key is derived from a passphrase: set SHUAN_KEK_PASSPHRASE or enter it when asked")]
    PassphraseRequired,
    /// Underlying crypto or I/O error.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// A key-encryption key: wraps and unwraps data keys and authenticates the keyring.
/// Implement it for an HSM to keep the master key out of process memory.
pub trait Kek: Send + Sync {
    /// Encrypt `key` with `context` bound as associated data.
    fn wrap(&self, context: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// Reverse [`Kek::wrap`]; fails if `context` or `wrapped` differ.
    fn unwrap(&self, context: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError>;
    /// A MAC over `data` (the keyring contents).
    fn mac(&self, data: &[u8]) -> [u8; 32];
}

/// The software KEK: 32 bytes of master key material from which a wrapping key and a
/// MAC key are derived with the SM3 KDF.
pub struct SoftwareKek {
    wrap: Sm4Gcm,
    mac_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SoftwareKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareKek { .. }")
    }
}

impl SoftwareKek {
    /// Derive the working keys from 32 bytes of master key material.
    pub fn from_master(master: &[u8; 32]) -> Self {
        let mut z = Zeroizing::new([0u8; 32 + 16]);
        z[..32].copy_from_slice(master);
        z[32..].copy_from_slice(b"shuan kek v1 wrp");
        let mut wrap_key = Zeroizing::new([0u8; 16]);
        crate::sm3::kdf(&z[..], &mut wrap_key[..]);
        z[32..].copy_from_slice(b"shuan kek v1 mac");
        let mut mac_key = Zeroizing::new([0u8; 32]);
        crate::sm3::kdf(&z[..], &mut mac_key[..]);
        SoftwareKek {
            wrap: Sm4Gcm::new(&wrap_key),
            mac_key,
        }
    }

    /// Derive the master key from a passphrase with Argon2id.
    pub fn from_passphrase(
        passphrase: &[u8],
        params: &PassphraseParams,
    ) -> Result<Self, CryptoError> {
        let salt = hex_decode(&params.salt).ok_or(CryptoError::InvalidKey("bad Argon2 salt"))?;
        let p = argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
            .map_err(|_| CryptoError::InvalidKey("bad Argon2 parameters"))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
        let mut master = Zeroizing::new([0u8; 32]);
        a.hash_password_into(passphrase, &salt, &mut master[..])
            .map_err(|_| CryptoError::InvalidKey("Argon2id failed (passphrase or salt length)"))?;
        Ok(Self::from_master(&master))
    }
}

impl Kek for SoftwareKek {
    fn wrap(&self, context: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce: [u8; 12] = crate::rand::bytes()?;
        let mut buf = key.to_vec();
        let tag = self.wrap.encrypt(&nonce, context, &mut buf);
        let mut out = nonce.to_vec();
        out.append(&mut buf);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unwrap(&self, context: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if wrapped.len() < 12 + 16 {
            return Err(CryptoError::AuthenticationFailed);
        }
        let nonce: [u8; 12] = wrapped[..12].try_into().expect("12 bytes");
        let (ct, tag) = wrapped[12..].split_at(wrapped.len() - 12 - 16);
        let mut buf = Zeroizing::new(ct.to_vec());
        self.wrap.decrypt(&nonce, context, &mut buf, tag)?;
        Ok(buf)
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut m = HmacSm3::new(&self.mac_key[..]);
        m.update(data);
        m.finalize()
    }
}

/// Argon2id parameters stored in the keyring (the salt is public).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PassphraseParams {
    /// Hex salt, 16 bytes.
    pub salt: String,
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
}

impl PassphraseParams {
    /// Fresh salt with the default cost (64 MiB, 3 passes, 1 lane: OWASP's Argon2id
    /// recommendation), or `SHUAN_ARGON2_M_KIB` memory for tests.
    pub fn generate() -> Result<Self, CryptoError> {
        let m = std::env::var("SHUAN_ARGON2_M_KIB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64 * 1024);
        Ok(PassphraseParams {
            salt: hex_encode(&crate::rand::bytes::<16>()?),
            m_cost_kib: m,
            t_cost: 3,
            p_cost: 1,
        })
    }
}

/// Where the KEK comes from, as recorded in the keyring file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KekSpec {
    /// 32 random bytes in `DATA_DIR/keys/kek.key` (mode 0600).
    File,
    /// Argon2id over a passphrase.
    Passphrase(PassphraseParams),
}

/// State of one data key version.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// The version new data is encrypted under.
    Active,
    /// Superseded by a rotation; still decrypts.
    Retired,
    /// Key material erased (crypto-shredded).
    Destroyed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyVersionRecord {
    version: u32,
    created: String,
    state: KeyState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destroyed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wrapped: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyRecord {
    id: String,
    created: String,
    versions: Vec<KeyVersionRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyringFile {
    format: String,
    kek: KekSpec,
    default_key: String,
    keys: Vec<KeyRecord>,
    #[serde(default)]
    mac: String,
}

impl KeyringFile {
    fn mac_input(&self) -> Vec<u8> {
        let mut copy = self.clone();
        copy.mac.clear();
        serde_json::to_vec(&copy).expect("keyring serialises")
    }
}

/// What `list` reports about one key version (no key material).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key id.
    pub id: String,
    /// Version number (1, 2, …).
    pub version: u32,
    /// Active, retired or destroyed.
    pub state: KeyState,
    /// Creation time (UTC, RFC 3339).
    pub created: String,
    /// Destruction time, if destroyed.
    pub destroyed_at: Option<String>,
    /// Whether this is the keyring's default key.
    pub is_default: bool,
}

/// How to obtain the KEK when creating or opening a keyring.
pub enum KekSource {
    /// A random KEK in `DATA_DIR/keys/kek.key`.
    File,
    /// A passphrase (Argon2id).
    Passphrase(Zeroizing<String>),
}

/// An open keyring.
pub struct Keyring {
    dir: PathBuf,
    file: KeyringFile,
    kek: Box<dyn Kek>,
    passphrase: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("dir", &self.dir)
            .field("keys", &self.file.keys.len())
            .finish_non_exhaustive()
    }
}

/// `DATA_DIR/keys/keyring.json`.
pub fn keyring_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("keyring.json")
}

/// `DATA_DIR/keys/kek.key`.
pub fn kek_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("kek.key")
}

fn key_context(id: &str, version: u32) -> Vec<u8> {
    format!("{FORMAT}|{id}|{version}").into_bytes()
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn load_file_kek(data_dir: &Path) -> Result<SoftwareKek, CryptoError> {
    let path = kek_path(data_dir);
    crate::fsutil::check_private(&path)?;
    let bytes =
        Zeroizing::new(std::fs::read(&path).map_err(|e| CryptoError::io("reading KEK", &path, e))?);
    let master: &[u8; 32] = bytes[..]
        .try_into()
        .map_err(|_| CryptoError::InvalidKey("KEK file must hold exactly 32 bytes"))?;
    Ok(SoftwareKek::from_master(master))
}

impl Keyring {
    /// Create the keyring (and the KEK file for [`KekSource::File`]) with one data key,
    /// [`DEFAULT_KEY_ID`]. Refuses to overwrite an existing keyring.
    pub fn init(data_dir: &Path, source: KekSource) -> Result<Self, KeyringError> {
        let path = keyring_path(data_dir);
        if path.exists() {
            return Err(KeyringError::AlreadyExists(path));
        }
        let (spec, kek, passphrase): (KekSpec, Box<dyn Kek>, _) = match source {
            KekSource::File => {
                let kp = kek_path(data_dir);
                if kp.exists() {
                    return Err(KeyringError::AlreadyExists(kp));
                }
                let master = Zeroizing::new(crate::rand::bytes::<32>()?);
                crate::fsutil::create_new_secret_file(&kp, &master[..])?;
                (
                    KekSpec::File,
                    Box::new(SoftwareKek::from_master(&master)),
                    None,
                )
            }
            KekSource::Passphrase(p) => {
                let params = PassphraseParams::generate()?;
                let kek = SoftwareKek::from_passphrase(p.as_bytes(), &params)?;
                (KekSpec::Passphrase(params), Box::new(kek), Some(p))
            }
        };
        let mut kr = Keyring {
            dir: data_dir.to_path_buf(),
            file: KeyringFile {
                format: FORMAT.into(),
                kek: spec,
                default_key: DEFAULT_KEY_ID.into(),
                keys: Vec::new(),
                mac: String::new(),
            },
            kek,
            passphrase,
        };
        kr.create_key(DEFAULT_KEY_ID)?;
        Ok(kr)
    }

    /// Open the keyring in `data_dir`. `passphrase` is called only if the KEK is
    /// passphrase-derived.
    pub fn open<F>(data_dir: &Path, passphrase: F) -> Result<Self, KeyringError>
    where
        F: FnOnce() -> Option<Zeroizing<String>>,
    {
        let path = keyring_path(data_dir);
        let file = read_keyring_file(&path)?;
        let (kek, pass): (Box<dyn Kek>, _) = match &file.kek {
            KekSpec::File => (Box::new(load_file_kek(data_dir)?), None),
            KekSpec::Passphrase(params) => {
                let p = passphrase().ok_or(KeyringError::PassphraseRequired)?;
                (
                    Box::new(SoftwareKek::from_passphrase(p.as_bytes(), params)?),
                    Some(p),
                )
            }
        };
        Self::open_with_kek(data_dir, file, kek, pass)
    }

    fn open_with_kek(
        data_dir: &Path,
        file: KeyringFile,
        kek: Box<dyn Kek>,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<Self, KeyringError> {
        let path = keyring_path(data_dir);
        let expected = kek.mac(&file.mac_input());
        let stored = hex_decode(&file.mac).unwrap_or_default();
        if !bool::from(expected.ct_eq(&stored[..])) {
            return Err(KeyringError::IntegrityFailed(path));
        }
        Ok(Keyring {
            dir: data_dir.to_path_buf(),
            file,
            kek,
            passphrase,
        })
    }

    /// Open with a caller-supplied KEK (e.g. an HSM-backed one).
    pub fn open_with(data_dir: &Path, kek: Box<dyn Kek>) -> Result<Self, KeyringError> {
        let file = read_keyring_file(&keyring_path(data_dir))?;
        Self::open_with_kek(data_dir, file, kek, None)
    }

    fn save(&mut self) -> Result<(), KeyringError> {
        self.file.mac = hex_encode(&self.kek.mac(&self.file.mac_input()));
        let json = serde_json::to_vec_pretty(&self.file).expect("keyring serialises");
        crate::fsutil::write_atomic(&keyring_path(&self.dir), &json, 0o600)?;
        Ok(())
    }

    /// The id used when no key id is given.
    pub fn default_key_id(&self) -> &str {
        &self.file.default_key
    }

    /// How the KEK is obtained.
    pub fn kek_spec(&self) -> &KekSpec {
        &self.file.kek
    }

    fn record(&self, id: &str) -> Result<&KeyRecord, KeyringError> {
        self.file
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| KeyringError::KeyNotFound(id.to_string()))
    }

    fn record_mut(&mut self, id: &str) -> Result<&mut KeyRecord, KeyringError> {
        self.file
            .keys
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or_else(|| KeyringError::KeyNotFound(id.to_string()))
    }

    fn new_version(&self, id: &str, version: u32) -> Result<KeyVersionRecord, KeyringError> {
        let key = Zeroizing::new(crate::rand::bytes::<16>()?);
        let wrapped = self.kek.wrap(&key_context(id, version), &key[..])?;
        Ok(KeyVersionRecord {
            version,
            created: crate::time::now_rfc3339(),
            state: KeyState::Active,
            destroyed_at: None,
            wrapped: Some(hex_encode(&wrapped)),
        })
    }

    /// Add a data key `id` with version 1.
    pub fn create_key(&mut self, id: &str) -> Result<(), KeyringError> {
        if !valid_id(id) {
            return Err(KeyringError::InvalidKeyId(id.to_string()));
        }
        if self.file.keys.iter().any(|k| k.id == id) {
            return Err(KeyringError::KeyExists(id.to_string()));
        }
        let v = self.new_version(id, 1)?;
        self.file.keys.push(KeyRecord {
            id: id.to_string(),
            created: v.created.clone(),
            versions: vec![v],
        });
        self.save()
    }

    /// Add a new active version of `id`; earlier versions are retired but still decrypt.
    /// Returns the new version number.
    pub fn rotate(&mut self, id: &str) -> Result<u32, KeyringError> {
        let next = self
            .record(id)?
            .versions
            .iter()
            .map(|v| v.version)
            .max()
            .unwrap_or(0)
            + 1;
        let v = self.new_version(id, next)?;
        let rec = self.record_mut(id)?;
        for old in rec.versions.iter_mut() {
            if old.state == KeyState::Active {
                old.state = KeyState::Retired;
            }
        }
        rec.versions.push(v);
        self.save()?;
        Ok(next)
    }

    /// Crypto-shred `id` (all versions, or one): erase the wrapped key material, then
    /// replace the KEK and re-wrap the remaining keys so that older copies of the keyring
    /// file cannot be unwrapped with the current KEK. Returns the destroyed versions.
    pub fn destroy(&mut self, id: &str, version: Option<u32>) -> Result<Vec<u32>, KeyringError> {
        let now = crate::time::now_rfc3339();
        let rec = self.record_mut(id)?;
        if let Some(v) = version {
            if !rec.versions.iter().any(|r| r.version == v) {
                return Err(KeyringError::VersionNotFound {
                    id: id.to_string(),
                    version: v,
                });
            }
        }
        let mut destroyed = Vec::new();
        for r in rec.versions.iter_mut() {
            if version.is_none_or(|v| v == r.version) && r.state != KeyState::Destroyed {
                r.state = KeyState::Destroyed;
                r.destroyed_at = Some(now.clone());
                r.wrapped = None;
                destroyed.push(r.version);
            }
        }
        self.rotate_kek()?;
        Ok(destroyed)
    }

    /// Replace the KEK (a new random KEK file, or a new Argon2 salt for a passphrase)
    /// and re-wrap every live data key under it. The data keys do not change, so no data
    /// needs re-encrypting.
    pub fn rotate_kek(&mut self) -> Result<(), KeyringError> {
        // Unwrap everything under the old KEK first.
        let mut plain: Vec<(usize, usize, Zeroizing<Vec<u8>>)> = Vec::new();
        for (ki, k) in self.file.keys.iter().enumerate() {
            for (vi, v) in k.versions.iter().enumerate() {
                if let Some(w) = &v.wrapped {
                    let w = hex_decode(w).ok_or(CryptoError::AuthenticationFailed)?;
                    plain.push((ki, vi, self.kek.unwrap(&key_context(&k.id, v.version), &w)?));
                }
            }
        }
        let (new_kek, new_master): (Box<dyn Kek>, Option<Zeroizing<[u8; 32]>>) =
            match &self.file.kek {
                KekSpec::File => {
                    let master = Zeroizing::new(crate::rand::bytes::<32>()?);
                    (Box::new(SoftwareKek::from_master(&master)), Some(master))
                }
                KekSpec::Passphrase(_) => {
                    let params = PassphraseParams::generate()?;
                    let p = self
                        .passphrase
                        .as_ref()
                        .ok_or(KeyringError::PassphraseRequired)?;
                    let kek = SoftwareKek::from_passphrase(p.as_bytes(), &params)?;
                    self.file.kek = KekSpec::Passphrase(params);
                    (Box::new(kek), None)
                }
            };
        for (ki, vi, key) in plain {
            let k = &self.file.keys[ki];
            let ctx = key_context(&k.id, k.versions[vi].version);
            let w = new_kek.wrap(&ctx, &key)?;
            self.file.keys[ki].versions[vi].wrapped = Some(hex_encode(&w));
        }
        self.kek = new_kek;
        // Order matters for crash safety: write the new KEK file beside the old one,
        // then the keyring, then move the new KEK into place.
        if let Some(master) = new_master {
            let kp = kek_path(&self.dir);
            let staged = kp.with_extension("key.new");
            let _ = std::fs::remove_file(&staged);
            crate::fsutil::create_new_secret_file(&staged, &master[..])?;
            self.save()?;
            std::fs::rename(&staged, &kp).map_err(|e| CryptoError::io("replacing KEK", &kp, e))?;
        } else {
            self.save()?;
        }
        Ok(())
    }

    /// Every key version, without key material.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.file
            .keys
            .iter()
            .flat_map(|k| {
                k.versions.iter().map(move |v| KeyInfo {
                    id: k.id.clone(),
                    version: v.version,
                    state: v.state,
                    created: v.created.clone(),
                    destroyed_at: v.destroyed_at.clone(),
                    is_default: k.id == self.file.default_key,
                })
            })
            .collect()
    }

    /// The active version of `id` and its key.
    pub fn active_key(&self, id: &str) -> Result<(u32, Zeroizing<[u8; 16]>), KeyringError> {
        let rec = self.record(id)?;
        let v = rec
            .versions
            .iter()
            .filter(|v| v.state == KeyState::Active)
            .map(|v| v.version)
            .max();
        match v {
            Some(v) => Ok((v, self.key(id, v)?)),
            None => {
                let last = rec
                    .versions
                    .iter()
                    .max_by_key(|v| v.version)
                    .expect("a key has versions");
                Err(KeyringError::Destroyed {
                    id: id.to_string(),
                    version: last.version,
                    at: last.destroyed_at.clone().unwrap_or_default(),
                })
            }
        }
    }

    /// The data key `id` at `version` (any non-destroyed version).
    pub fn key(&self, id: &str, version: u32) -> Result<Zeroizing<[u8; 16]>, KeyringError> {
        let rec = self.record(id)?;
        let v = rec
            .versions
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| KeyringError::VersionNotFound {
                id: id.to_string(),
                version,
            })?;
        let Some(w) = &v.wrapped else {
            return Err(KeyringError::Destroyed {
                id: id.to_string(),
                version,
                at: v.destroyed_at.clone().unwrap_or_default(),
            });
        };
        let w = hex_decode(w).ok_or(CryptoError::AuthenticationFailed)?;
        let raw = self.kek.unwrap(&key_context(id, version), &w)?;
        let mut k = Zeroizing::new([0u8; 16]);
        if raw.len() != 16 {
            return Err(CryptoError::InvalidKey("wrapped data key has the wrong length").into());
        }
        k.copy_from_slice(&raw);
        Ok(k)
    }
}

fn read_keyring_file(path: &Path) -> Result<KeyringFile, KeyringError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeyringError::NotInitialised(path.to_path_buf()))
        }
        Err(e) => return Err(CryptoError::io("reading keyring", path, e).into()),
    };
    let file: KeyringFile =
        serde_json::from_slice(&bytes).map_err(|e| KeyringError::Malformed {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if file.format != FORMAT {
        return Err(KeyringError::Malformed {
            path: path.to_path_buf(),
            reason: format!("unknown format '{}'", file.format),
        });
    }
    Ok(file)
}

pub(crate) fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_rotate_destroy_file_kek() {
        let dir = tempfile::tempdir().unwrap();
        let mut kr = Keyring::init(dir.path(), KekSource::File).unwrap();
        assert!(matches!(
            Keyring::init(dir.path(), KekSource::File),
            Err(KeyringError::AlreadyExists(_))
        ));
        let (v1, k1) = kr.active_key(DEFAULT_KEY_ID).unwrap();
        assert_eq!(v1, 1);
        assert_eq!(kr.rotate(DEFAULT_KEY_ID).unwrap(), 2);
        let kr2 = Keyring::open(dir.path(), || None).unwrap();
        let (v2, k2) = kr2.active_key(DEFAULT_KEY_ID).unwrap();
        assert_eq!(v2, 2);
        assert_ne!(*k1, *k2);
        assert_eq!(
            *kr2.key(DEFAULT_KEY_ID, 1).unwrap(),
            *k1,
            "old versions still decrypt"
        );

        kr.create_key("asset-7").unwrap();
        let (_, asset) = kr.active_key("asset-7").unwrap();
        let old_keyring = std::fs::read(keyring_path(dir.path())).unwrap();
        assert_eq!(kr.destroy(DEFAULT_KEY_ID, Some(1)).unwrap(), vec![1]);
        assert!(matches!(
            kr.key(DEFAULT_KEY_ID, 1),
            Err(KeyringError::Destroyed { .. })
        ));
        assert_eq!(*kr.key(DEFAULT_KEY_ID, 2).unwrap(), *k2);
        let kr3 = Keyring::open(dir.path(), || None).unwrap();
        assert_eq!(
            *kr3.active_key("asset-7").unwrap().1,
            *asset,
            "other keys survive KEK rotation"
        );
        // The destroyed key's material is nowhere in the new file, and the old file no
        // longer opens under the new KEK.
        let text = std::fs::read_to_string(keyring_path(dir.path())).unwrap();
        assert!(!text.contains(&hex_encode(&k1[..])));
        std::fs::write(keyring_path(dir.path()), &old_keyring).unwrap();
        assert!(matches!(
            Keyring::open(dir.path(), || None),
            Err(KeyringError::IntegrityFailed(_))
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        Keyring::init(dir.path(), KekSource::File).unwrap();
        let p = keyring_path(dir.path());
        let text = std::fs::read_to_string(&p).unwrap();
        let edited = text.replace("\"active\"", "\"retired\"");
        assert_ne!(edited, text);
        std::fs::write(&p, edited).unwrap();
        assert!(matches!(
            Keyring::open(dir.path(), || None),
            Err(KeyringError::IntegrityFailed(_))
        ));
    }

    #[test]
    fn passphrase_kek() {
        std::env::set_var("SHUAN_ARGON2_M_KIB", "256");
        let dir = tempfile::tempdir().unwrap();
        let pass = || Some(Zeroizing::new("correct horse".to_string()));
        let kr = Keyring::init(dir.path(), KekSource::Passphrase(pass().unwrap())).unwrap();
        let (_, k) = kr.active_key(DEFAULT_KEY_ID).unwrap();
        assert!(!kek_path(dir.path()).exists());
        let kr2 = Keyring::open(dir.path(), pass).unwrap();
        assert_eq!(*kr2.active_key(DEFAULT_KEY_ID).unwrap().1, *k);
        assert!(matches!(
            Keyring::open(dir.path(), || Some(Zeroizing::new("wrong".into()))),
            Err(KeyringError::IntegrityFailed(_))
        ));
        assert!(matches!(
            Keyring::open(dir.path(), || None),
            Err(KeyringError::PassphraseRequired)
        ));
    }

    #[test]
    fn ids_are_validated_and_debug_has_no_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut kr = Keyring::init(dir.path(), KekSource::File).unwrap();
        assert!(kr.create_key("../evil").is_err());
        assert!(kr.create_key(DEFAULT_KEY_ID).is_err());
        let (_, k) = kr.active_key(DEFAULT_KEY_ID).unwrap();
        assert!(!format!("{kr:?}").contains(&hex_encode(&k[..])));
    }
}
