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
//! * Many processes and threads may use one keyring at once. Every change takes an
//!   exclusive advisory lock on `DATA_DIR/keys/keyring.json.lock` (waiting at most
//!   [`DEFAULT_LOCK_WAIT`]), re-reads the file, applies itself to what it read, replaces
//!   the file atomically (temporary, fsync, rename, fsync of the directory) and only then
//!   releases the lock, so no acknowledged change is ever overwritten by another.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub use crate::fsutil::DEFAULT_LOCK_WAIT;
use crate::fsutil::{FileLock, LockFailure};
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
    /// Another process held the keyring lock for the whole wait.
    #[error("the keyring is locked by another shuan process ({path}, waited {} ms); retry when it has finished, or look for a hung process holding that file", waited.as_millis())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
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
        check_argon2_floor(params, WEAK_ARGON2_ALLOWED)?;
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

/// Argon2id memory cost of a passphrase KEK: 64 MiB (OWASP's recommendation).
pub const ARGON2_M_COST_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_T_COST: u32 = 3;
/// Argon2id lanes.
pub const ARGON2_P_COST: u32 = 1;
/// Test builds may lower the memory cost through this variable so that tests do not
/// spend 64 MiB per derivation; release builds ignore values below
/// [`ARGON2_M_COST_KIB`].
pub const ARGON2_TEST_MEMORY_ENV: &str = "SHUAN_ARGON2_M_KIB";

/// Whether this build may use Argon2 costs below the documented ones: only builds with
/// debug assertions (the test and dev profiles), never a release build.
const WEAK_ARGON2_ALLOWED: bool = cfg!(debug_assertions);

/// The memory cost for a new passphrase KEK: the documented cost, or the test hook's
/// value where `allow_weaker`; a value below the floor is never used otherwise.
fn argon2_memory_kib(test_hook: Option<&str>, allow_weaker: bool) -> u32 {
    let requested = test_hook.and_then(|v| v.trim().parse::<u32>().ok());
    match requested {
        Some(m) if allow_weaker => m,
        Some(m) => m.max(ARGON2_M_COST_KIB),
        None => ARGON2_M_COST_KIB,
    }
}

/// Refuse parameters below the documented cost unless `allow_weaker`.
fn check_argon2_floor(params: &PassphraseParams, allow_weaker: bool) -> Result<(), CryptoError> {
    if !allow_weaker
        && (params.m_cost_kib < ARGON2_M_COST_KIB
            || params.t_cost < ARGON2_T_COST
            || params.p_cost < ARGON2_P_COST)
    {
        return Err(CryptoError::InvalidKey(
            "the keyring's Argon2id cost is below the documented minimum (64 MiB, 3 passes, \
             1 lane): it was made by a test build, which a release build refuses; create \
             the keyring with a release build",
        ));
    }
    Ok(())
}

impl PassphraseParams {
    /// Fresh salt with the documented cost ([`ARGON2_M_COST_KIB`], [`ARGON2_T_COST`],
    /// [`ARGON2_P_COST`]); test builds may lower the memory through
    /// [`ARGON2_TEST_MEMORY_ENV`], release builds never.
    pub fn generate() -> Result<Self, CryptoError> {
        let hook = std::env::var(ARGON2_TEST_MEMORY_ENV).ok();
        Ok(PassphraseParams {
            salt: hex_encode(&crate::rand::bytes::<16>()?),
            m_cost_kib: argon2_memory_kib(hook.as_deref(), WEAK_ARGON2_ALLOWED),
            t_cost: ARGON2_T_COST,
            p_cost: ARGON2_P_COST,
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

/// Where an open keyring's KEK came from, which says how to refresh it when another
/// process has replaced it (`rotate-kek`, `destroy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KekOrigin {
    /// `DATA_DIR/keys/kek.key`: re-read under the lock before every change.
    KeyFile,
    /// Argon2id over the passphrase kept in the keyring: re-derived if the salt changed.
    Passphrase,
    /// Handed in by the caller (e.g. an HSM): used as is.
    Supplied,
}

/// An open keyring.
pub struct Keyring {
    dir: PathBuf,
    file: KeyringFile,
    kek: Box<dyn Kek>,
    kek_origin: KekOrigin,
    passphrase: Option<Zeroizing<String>>,
    lock_wait: Duration,
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

/// `DATA_DIR/keys/keyring.json.lock`: the (empty, permanent) file whose advisory lock
/// serialises every change to the keyring and the KEK file.
pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("keyring.json.lock")
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

/// `DATA_DIR/keys/kek.key.new`: a replacement KEK written before the keyring re-wrapped
/// under it, renamed over `kek.key` after (see [`Keyring::rotate_kek`]).
fn staged_kek_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("kek.key.new")
}

fn load_file_kek(data_dir: &Path) -> Result<SoftwareKek, CryptoError> {
    load_kek_file(&kek_path(data_dir))
}

fn load_kek_file(path: &Path) -> Result<SoftwareKek, CryptoError> {
    let path = path.to_path_buf();
    crate::fsutil::check_private(&path)?;
    let bytes =
        Zeroizing::new(std::fs::read(&path).map_err(|e| CryptoError::io("reading KEK", &path, e))?);
    let master: &[u8; 32] = bytes[..]
        .try_into()
        .map_err(|_| CryptoError::InvalidKey("KEK file must hold exactly 32 bytes"))?;
    Ok(SoftwareKek::from_master(master))
}

fn mac_matches(kek: &dyn Kek, file: &KeyringFile) -> bool {
    let expected = kek.mac(&file.mac_input());
    let stored = hex_decode(&file.mac).unwrap_or_default();
    bool::from(expected.ct_eq(&stored[..]))
}

/// Take the keyring lock of `data_dir`, waiting at most `wait`.
fn lock_keyring(data_dir: &Path, wait: Duration) -> Result<FileLock, KeyringError> {
    let path = lock_path(data_dir);
    FileLock::acquire(&path, wait).map_err(|failure| match failure {
        LockFailure::TimedOut => KeyringError::LockTimeout { path, waited: wait },
        LockFailure::Io(e) => e.into(),
    })
}

/// The KEK in `kek.key` that authenticates `file`. Call with the keyring lock held: if a
/// KEK rotation was interrupted after the keyring was re-wrapped but before the new KEK
/// was renamed into place, the staged `kek.key.new` is the one that verifies, and the
/// rotation is completed here.
fn file_kek_for(data_dir: &Path, file: &KeyringFile) -> Result<SoftwareKek, KeyringError> {
    let current = load_file_kek(data_dir)?;
    if mac_matches(&current, file) {
        return Ok(current);
    }
    let staged_path = staged_kek_path(data_dir);
    if staged_path.exists() {
        let staged = load_kek_file(&staged_path)?;
        if mac_matches(&staged, file) {
            let kp = kek_path(data_dir);
            std::fs::rename(&staged_path, &kp).map_err(|e| {
                CryptoError::io("completing an interrupted KEK rotation: replacing", &kp, e)
            })?;
            crate::fsutil::sync_dir(kp.parent().unwrap_or(data_dir))?;
            return Ok(staged);
        }
    }
    Err(KeyringError::IntegrityFailed(keyring_path(data_dir)))
}

impl Keyring {
    /// Create the keyring (and the KEK file for [`KekSource::File`]) with one data key,
    /// [`DEFAULT_KEY_ID`]. Refuses to overwrite an existing keyring; of several
    /// concurrent `init`s exactly one succeeds.
    pub fn init(data_dir: &Path, source: KekSource) -> Result<Self, KeyringError> {
        let path = keyring_path(data_dir);
        if path.exists() {
            return Err(KeyringError::AlreadyExists(path));
        }
        // Argon2id is slow: derive before taking the lock.
        let (spec, kek, kek_origin, passphrase, master): (KekSpec, Box<dyn Kek>, _, _, _) =
            match source {
                KekSource::File => {
                    let master = Zeroizing::new(crate::rand::bytes::<32>()?);
                    (
                        KekSpec::File,
                        Box::new(SoftwareKek::from_master(&master)),
                        KekOrigin::KeyFile,
                        None,
                        Some(master),
                    )
                }
                KekSource::Passphrase(p) => {
                    let params = PassphraseParams::generate()?;
                    let kek = SoftwareKek::from_passphrase(p.as_bytes(), &params)?;
                    (
                        KekSpec::Passphrase(params),
                        Box::new(kek),
                        KekOrigin::Passphrase,
                        Some(p),
                        None,
                    )
                }
            };
        let _lock = lock_keyring(data_dir, DEFAULT_LOCK_WAIT)?;
        if path.exists() {
            return Err(KeyringError::AlreadyExists(path));
        }
        let kp = kek_path(data_dir);
        if let Some(master) = &master {
            if !crate::fsutil::publish_new_secret_file(&kp, &master[..])? {
                return Err(KeyringError::AlreadyExists(kp));
            }
        }
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
            kek_origin,
            passphrase,
            lock_wait: DEFAULT_LOCK_WAIT,
        };
        let created = kr.add_key_locked(DEFAULT_KEY_ID);
        if created.is_err() && master.is_some() {
            // No keyring was written: a KEK file alone would block every later `init`.
            let _ = std::fs::remove_file(&kp);
        }
        created?;
        Ok(kr)
    }

    /// Open the keyring in `data_dir`. `passphrase` is called only if the KEK is
    /// passphrase-derived.
    pub fn open<F>(data_dir: &Path, passphrase: F) -> Result<Self, KeyringError>
    where
        F: FnOnce() -> Option<Zeroizing<String>>,
    {
        let path = keyring_path(data_dir);
        // The keyring and the KEK file change together under the lock; read both under it.
        let lock = lock_keyring(data_dir, DEFAULT_LOCK_WAIT)?;
        let file = read_keyring_file(&path)?;
        let (kek, origin, pass): (Box<dyn Kek>, _, _) = match &file.kek {
            KekSpec::File => (
                Box::new(file_kek_for(data_dir, &file)?),
                KekOrigin::KeyFile,
                None,
            ),
            KekSpec::Passphrase(params) => {
                drop(lock);
                let p = passphrase().ok_or(KeyringError::PassphraseRequired)?;
                (
                    Box::new(SoftwareKek::from_passphrase(p.as_bytes(), params)?),
                    KekOrigin::Passphrase,
                    Some(p),
                )
            }
        };
        Self::open_with_kek(data_dir, file, kek, origin, pass)
    }

    fn open_with_kek(
        data_dir: &Path,
        file: KeyringFile,
        kek: Box<dyn Kek>,
        kek_origin: KekOrigin,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<Self, KeyringError> {
        if !mac_matches(kek.as_ref(), &file) {
            return Err(KeyringError::IntegrityFailed(keyring_path(data_dir)));
        }
        Ok(Keyring {
            dir: data_dir.to_path_buf(),
            file,
            kek,
            kek_origin,
            passphrase,
            lock_wait: DEFAULT_LOCK_WAIT,
        })
    }

    /// Open with a caller-supplied KEK (e.g. an HSM-backed one).
    pub fn open_with(data_dir: &Path, kek: Box<dyn Kek>) -> Result<Self, KeyringError> {
        let file = {
            let _lock = lock_keyring(data_dir, DEFAULT_LOCK_WAIT)?;
            read_keyring_file(&keyring_path(data_dir))?
        };
        Self::open_with_kek(data_dir, file, kek, KekOrigin::Supplied, None)
    }

    /// Wait at most `wait` for another process's keyring lock (default
    /// [`DEFAULT_LOCK_WAIT`]) before a change fails with [`KeyringError::LockTimeout`].
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// Apply a change to the latest keyring: take the lock, re-read the file (and the KEK
    /// if another process replaced it), run `apply` (which saves), release the lock. On
    /// failure the in-memory keyring is left as it was read.
    fn update<R>(
        &mut self,
        apply: impl FnOnce(&mut Self) -> Result<R, KeyringError>,
    ) -> Result<R, KeyringError> {
        let _lock = lock_keyring(&self.dir, self.lock_wait)?;
        self.reload_locked()?;
        let before = self.file.clone();
        let result = apply(self);
        if result.is_err() {
            self.file = before;
        }
        result
    }

    /// Re-read the keyring file; the caller holds the lock.
    fn reload_locked(&mut self) -> Result<(), KeyringError> {
        let path = keyring_path(&self.dir);
        let file = read_keyring_file(&path)?;
        match (self.kek_origin, &file.kek) {
            (KekOrigin::KeyFile, KekSpec::File) => {
                self.kek = Box::new(file_kek_for(&self.dir, &file)?);
            }
            (KekOrigin::Passphrase, KekSpec::Passphrase(params)) if file.kek != self.file.kek => {
                let p = self
                    .passphrase
                    .as_ref()
                    .ok_or(KeyringError::PassphraseRequired)?;
                self.kek = Box::new(SoftwareKek::from_passphrase(p.as_bytes(), params)?);
            }
            _ => {}
        }
        if !mac_matches(self.kek.as_ref(), &file) {
            return Err(KeyringError::IntegrityFailed(path));
        }
        self.file = file;
        Ok(())
    }

    /// Write the keyring MACed under the current KEK; the caller holds the lock.
    fn save_locked(&mut self) -> Result<(), KeyringError> {
        write_keyring(&self.dir, &mut self.file, self.kek.as_ref())
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
        self.update(|kr| kr.add_key_locked(id))
    }

    fn add_key_locked(&mut self, id: &str) -> Result<(), KeyringError> {
        if self.file.keys.iter().any(|k| k.id == id) {
            return Err(KeyringError::KeyExists(id.to_string()));
        }
        let v = self.new_version(id, 1)?;
        self.file.keys.push(KeyRecord {
            id: id.to_string(),
            created: v.created.clone(),
            versions: vec![v],
        });
        self.save_locked()
    }

    /// Add a new active version of `id`; earlier versions are retired but still decrypt.
    /// Returns the new version number.
    pub fn rotate(&mut self, id: &str) -> Result<u32, KeyringError> {
        self.update(|kr| kr.rotate_locked(id))
    }

    fn rotate_locked(&mut self, id: &str) -> Result<u32, KeyringError> {
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
        self.save_locked()?;
        Ok(next)
    }

    /// Crypto-shred `id` (all versions, or one): erase the wrapped key material, then
    /// replace the KEK and re-wrap the remaining keys so that older copies of the keyring
    /// file cannot be unwrapped with the current KEK. Returns the destroyed versions.
    pub fn destroy(&mut self, id: &str, version: Option<u32>) -> Result<Vec<u32>, KeyringError> {
        self.update(|kr| {
            let now = crate::time::now_rfc3339();
            let rec = kr.record_mut(id)?;
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
            kr.rotate_kek_locked()?;
            Ok(destroyed)
        })
    }

    /// Replace the KEK (a new random KEK file, or a new Argon2 salt for a passphrase)
    /// and re-wrap every live data key under it. The data keys do not change, so no data
    /// needs re-encrypting.
    pub fn rotate_kek(&mut self) -> Result<(), KeyringError> {
        self.update(|kr| kr.rotate_kek_locked())
    }

    fn rotate_kek_locked(&mut self) -> Result<(), KeyringError> {
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
        // Order matters for crash safety: write the new KEK file beside the old one,
        // then the keyring, then move the new KEK into place. A crash in between leaves
        // a keyring that only `kek.key.new` authenticates; the next opener completes the
        // rename (`file_kek_for`).
        if let Some(master) = new_master {
            let kp = kek_path(&self.dir);
            let staged = staged_kek_path(&self.dir);
            // Any staged file here is stale: the reload under this lock would have
            // adopted it had the keyring needed it.
            match std::fs::remove_file(&staged) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(CryptoError::io("removing stale", &staged, e).into()),
            }
            if !crate::fsutil::publish_new_secret_file(&staged, &master[..])? {
                return Err(KeyringError::AlreadyExists(staged));
            }
            if let Err(e) = write_keyring(&self.dir, &mut self.file, new_kek.as_ref()) {
                let _ = std::fs::remove_file(&staged);
                return Err(e);
            }
            std::fs::rename(&staged, &kp).map_err(|e| CryptoError::io("replacing KEK", &kp, e))?;
            crate::fsutil::sync_dir(kp.parent().unwrap_or(&self.dir))?;
        } else {
            write_keyring(&self.dir, &mut self.file, new_kek.as_ref())?;
        }
        self.kek = new_kek;
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

/// MAC `file` under `kek` and replace the keyring file atomically; the caller holds the
/// lock.
fn write_keyring(
    data_dir: &Path,
    file: &mut KeyringFile,
    kek: &dyn Kek,
) -> Result<(), KeyringError> {
    file.mac = hex_encode(&kek.mac(&file.mac_input()));
    let json = serde_json::to_vec_pretty(&*file).expect("keyring serialises");
    crate::fsutil::write_atomic(&keyring_path(data_dir), &json, 0o600)?;
    Ok(())
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

fn hex_encode(b: &[u8]) -> String {
    crate::hex::encode(b)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    crate::hex::decode(s).ok()
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

    fn versions_of(kr: &Keyring, id: &str) -> Vec<u32> {
        kr.list()
            .into_iter()
            .filter(|k| k.id == id)
            .map(|k| k.version)
            .collect()
    }

    /// Each thread opens its own `Keyring`, as separate processes would; before the lock
    /// every writer saved the file it had read, dropping the others' changes.
    #[test]
    fn parallel_creates_and_rotations_keep_every_change() {
        let dir = tempfile::tempdir().unwrap();
        Keyring::init(dir.path(), KekSource::File).unwrap();
        let barrier = std::sync::Barrier::new(16);
        std::thread::scope(|s| {
            for t in 0..16 {
                let (dir, barrier) = (dir.path(), &barrier);
                s.spawn(move || {
                    let mut kr = Keyring::open(dir, || None).unwrap();
                    barrier.wait();
                    if t < 12 {
                        kr.create_key(&format!("k{t}")).unwrap();
                    } else {
                        for _ in 0..6 {
                            kr.rotate(DEFAULT_KEY_ID).unwrap();
                        }
                    }
                });
            }
        });
        let kr = Keyring::open(dir.path(), || None).unwrap();
        for t in 0..12 {
            let id = format!("k{t}");
            assert_eq!(versions_of(&kr, &id), vec![1], "{id} was acknowledged");
            kr.active_key(&id).unwrap();
        }
        assert_eq!(
            versions_of(&kr, DEFAULT_KEY_ID),
            (1..=25).collect::<Vec<_>>(),
            "24 acknowledged rotations make versions 2..=25"
        );
        let active: Vec<_> = kr
            .list()
            .into_iter()
            .filter(|k| k.id == DEFAULT_KEY_ID && k.state == KeyState::Active)
            .map(|k| k.version)
            .collect();
        assert_eq!(active, vec![25]);
        let keys_dir = dir.path().join("keys");
        for e in std::fs::read_dir(keys_dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(
                ["keyring.json", "keyring.json.lock", "kek.key"].contains(&name.as_str()),
                "unexpected file {name}"
            );
        }
    }

    /// A KEK rotation and a destroy by one opener while others create keys: every key
    /// created survives, still unwraps, and the destroyed one stays destroyed.
    #[test]
    fn kek_rotation_beside_creates_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut kr = Keyring::init(dir.path(), KekSource::File).unwrap();
        kr.create_key("doomed").unwrap();
        let barrier = std::sync::Barrier::new(9);
        std::thread::scope(|s| {
            for t in 0..8 {
                let (dir, barrier) = (dir.path(), &barrier);
                s.spawn(move || {
                    let mut kr = Keyring::open(dir, || None).unwrap();
                    barrier.wait();
                    kr.create_key(&format!("c{t}")).unwrap();
                    // The KEK may have been replaced since this opener read it.
                    kr.rotate(&format!("c{t}")).unwrap();
                });
            }
            let (dir, barrier) = (dir.path(), &barrier);
            s.spawn(move || {
                let mut kr = Keyring::open(dir, || None).unwrap();
                barrier.wait();
                kr.rotate_kek().unwrap();
                assert_eq!(kr.destroy("doomed", None).unwrap(), vec![1]);
                kr.rotate_kek().unwrap();
            });
        });
        let kr = Keyring::open(dir.path(), || None).unwrap();
        for t in 0..8 {
            let id = format!("c{t}");
            assert_eq!(versions_of(&kr, &id), vec![1, 2]);
            kr.key(&id, 1).unwrap();
            kr.key(&id, 2).unwrap();
        }
        assert!(matches!(
            kr.active_key("doomed"),
            Err(KeyringError::Destroyed { .. })
        ));
        assert!(!staged_kek_path(dir.path()).exists());
    }

    #[test]
    fn passphrase_openers_follow_a_kek_rotation() {
        std::env::set_var("SHUAN_ARGON2_M_KIB", "256");
        let dir = tempfile::tempdir().unwrap();
        let pass = || Some(Zeroizing::new("correct horse battery".to_string()));
        Keyring::init(dir.path(), KekSource::Passphrase(pass().unwrap())).unwrap();
        let mut a = Keyring::open(dir.path(), pass).unwrap();
        let mut b = Keyring::open(dir.path(), pass).unwrap();
        a.rotate_kek().unwrap();
        a.create_key("by-a").unwrap();
        // `b` still holds the KEK derived from the old salt; it must re-derive it, and
        // keep what `a` did.
        b.create_key("after-rotation").unwrap();
        let kr = Keyring::open(dir.path(), pass).unwrap();
        kr.active_key("after-rotation").unwrap();
        kr.active_key("by-a").unwrap();
        kr.active_key(DEFAULT_KEY_ID).unwrap();
    }

    #[test]
    fn a_held_lock_makes_changes_wait_then_time_out() {
        let dir = tempfile::tempdir().unwrap();
        Keyring::init(dir.path(), KekSource::File).unwrap();
        let mut kr = Keyring::open(dir.path(), || None)
            .unwrap()
            .with_lock_wait(Duration::from_millis(200));
        let held = lock_keyring(dir.path(), DEFAULT_LOCK_WAIT).unwrap();
        let started = std::time::Instant::now();
        let err = kr.create_key("late").unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(matches!(err, KeyringError::LockTimeout { .. }), "{err}");
        assert!(err.to_string().contains("keyring.json.lock"), "{err}");
        assert!(
            versions_of(&kr, "late").is_empty(),
            "a failed change is not kept"
        );
        drop(held);
        kr.create_key("late").unwrap();
        assert_eq!(
            versions_of(&Keyring::open(dir.path(), || None).unwrap(), "late"),
            vec![1]
        );
    }

    /// A crash between writing the re-wrapped keyring and renaming `kek.key.new` over
    /// `kek.key` leaves a keyring only the staged KEK opens; the next opener finishes the
    /// rotation instead of reporting the keyring as altered.
    #[test]
    fn interrupted_kek_rotation_is_completed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let kr = Keyring::init(dir.path(), KekSource::File).unwrap();
        let (_, key) = kr.active_key(DEFAULT_KEY_ID).unwrap();
        let master = [7u8; 32];
        let staged = staged_kek_path(dir.path());
        assert!(crate::fsutil::publish_new_secret_file(&staged, &master).unwrap());
        let new_kek = SoftwareKek::from_master(&master);
        let mut file = kr.file.clone();
        for k in &mut file.keys {
            for v in &mut k.versions {
                let w = hex_decode(v.wrapped.as_ref().unwrap()).unwrap();
                let plain = kr.kek.unwrap(&key_context(&k.id, v.version), &w).unwrap();
                v.wrapped = Some(hex_encode(
                    &new_kek
                        .wrap(&key_context(&k.id, v.version), &plain)
                        .unwrap(),
                ));
            }
        }
        write_keyring(dir.path(), &mut file, &new_kek).unwrap();
        let reopened = Keyring::open(dir.path(), || None).unwrap();
        assert_eq!(*reopened.active_key(DEFAULT_KEY_ID).unwrap().1, *key);
        assert!(!staged.exists());
        assert_eq!(std::fs::read(kek_path(dir.path())).unwrap(), master);
    }

    #[test]
    fn concurrent_inits_make_one_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| s.spawn(|| Keyring::init(dir.path(), KekSource::File).map(|_| ())))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, KeyringError::AlreadyExists(_))));
        Keyring::open(dir.path(), || None).unwrap();
    }

    /// What `generate` does with the hook in the build being tested: `cargo test` honours
    /// it, `cargo test --release` must not.
    #[test]
    fn generate_honours_the_test_hook_only_with_debug_assertions() {
        std::env::set_var(ARGON2_TEST_MEMORY_ENV, "256");
        let params = PassphraseParams::generate().unwrap();
        if cfg!(debug_assertions) {
            assert_eq!(params.m_cost_kib, 256);
        } else {
            assert_eq!(params.m_cost_kib, ARGON2_M_COST_KIB);
            let weak = PassphraseParams {
                m_cost_kib: 256,
                ..params
            };
            assert!(SoftwareKek::from_passphrase(b"correct horse battery", &weak).is_err());
        }
    }

    /// The test hook used to lower Argon2's memory in any build; a release build must
    /// use at least the documented cost whatever the environment says.
    #[test]
    fn release_builds_have_an_argon2_floor() {
        assert_eq!(argon2_memory_kib(Some("8"), false), ARGON2_M_COST_KIB);
        assert_eq!(argon2_memory_kib(Some("0"), false), ARGON2_M_COST_KIB);
        assert_eq!(argon2_memory_kib(None, false), ARGON2_M_COST_KIB);
        assert_eq!(
            argon2_memory_kib(Some("131072"), false),
            131072,
            "more is fine"
        );
        assert_eq!(
            argon2_memory_kib(Some("256"), true),
            256,
            "test builds may lower it"
        );
        assert_eq!(argon2_memory_kib(Some("junk"), true), ARGON2_M_COST_KIB);

        let weak = PassphraseParams {
            salt: hex_encode(&[1u8; 16]),
            m_cost_kib: 256,
            t_cost: 3,
            p_cost: 1,
        };
        assert!(check_argon2_floor(&weak, false).is_err());
        assert!(check_argon2_floor(&weak, true).is_ok());
        let one_pass = PassphraseParams {
            m_cost_kib: ARGON2_M_COST_KIB,
            t_cost: 1,
            ..weak.clone()
        };
        assert!(check_argon2_floor(&one_pass, false).is_err());
        let documented = PassphraseParams {
            m_cost_kib: ARGON2_M_COST_KIB,
            ..weak
        };
        assert!(check_argon2_floor(&documented, false).is_ok());
    }
}
