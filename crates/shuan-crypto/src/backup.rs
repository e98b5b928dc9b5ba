//! Encrypted, signed backups (备份, R-10): a tar of a directory, encrypted in the
//! envelope format under a keyring data key, with a detached SM2 signature by the node
//! key over the whole archive file (`ARCHIVE.sig`, DER; verifiable with
//! `openssl dgst -sm3 -verify node-sm2.pub.pem -sigopt distid:1234567812345678`).
//!
//! Every create/verify/restore appends a record to `DATA_DIR/backup-log.jsonl`, so
//! restore drills can be shown to an inspector.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::envelope::{DecryptReader, EnvelopeError, EnvelopeWriter, Header};
use crate::keyring::{Keyring, KeyringError};
use crate::sm2::{Signature, SigningKey, VerifyingKey};
use crate::sm3::Sm3;
use crate::CryptoError;
use zeroize::Zeroizing;

/// Data key id used for backups unless another is given.
pub const BACKUP_KEY_ID: &str = "backup";

/// Why a backup operation failed.
#[derive(thiserror::Error, Debug)]
pub enum BackupError {
    /// A consistent copy of a live database could not be made.
    #[error("cannot copy a live database consistently for the backup: {0}")]
    Snapshot(String),
    /// The signature file is missing.
    #[error("no signature file {0}: a backup without its .sig cannot be trusted")]
    MissingSignature(PathBuf),
    /// The SM2 signature does not verify.
    #[error("backup signature does not verify against the node key: {0} was altered or signed by another node")]
    BadSignature(PathBuf),
    /// The restore target has files in it.
    #[error("restore target {0} is not empty; choose an empty directory or pass --force")]
    TargetNotEmpty(PathBuf),
    /// The archive content failed decryption.
    #[error("backup archive {path}")]
    Envelope {
        /// Archive path.
        path: PathBuf,
        /// What failed.
        source: EnvelopeError,
    },
    /// Keyring problem.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The backup data key could not be created on first use.
    #[error("creating the backup data key")]
    CreateKey(#[source] KeyringError),
    /// The node's signing key could not be loaded.
    #[error("loading the node's SM2 signing key")]
    NodeKey(#[source] CryptoError),
    /// A restore drill restored something other than what was backed up.
    #[error("restore drill: {0}")]
    DrillMismatch(String),
    /// Crypto or I/O problem.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// What a backup operation did; also the record appended to the backup log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BackupRecord {
    /// `create`, `verify` or `restore`.
    pub action: String,
    /// UTC time, RFC 3339.
    pub time: String,
    /// The archive file.
    pub archive: PathBuf,
    /// The directory backed up or restored into (none for verify).
    pub directory: Option<PathBuf>,
    /// Regular files in the archive (create/restore).
    pub files: Option<u64>,
    /// Bytes of tar data (the plaintext size).
    pub bytes: u64,
    /// Keyring key id and version that encrypted the archive.
    pub key_id: String,
    /// Key version.
    pub key_version: u32,
    /// SM3 of the archive file, hex.
    pub archive_sm3: String,
    /// SM3 of the signer's public key (SEC1), hex: which node signed.
    pub signer: String,
    /// `ok`, or the error message.
    pub result: String,
}

/// `DATA_DIR/backup-log.jsonl`.
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("backup-log.jsonl")
}

/// Append `record` to the backup log.
pub fn append_log(data_dir: &Path, record: &BackupRecord) -> Result<(), CryptoError> {
    let path = log_path(data_dir);
    crate::fsutil::create_private_dir(data_dir)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| CryptoError::io("opening backup log", &path, e))?;
    let mut line = serde_json::to_vec(record).expect("record serialises");
    line.push(b'\n');
    f.write_all(&line)
        .and_then(|_| f.sync_data())
        .map_err(|e| CryptoError::io("writing backup log", &path, e))
}

/// Read the backup log (oldest first).
pub fn read_log(data_dir: &Path) -> Result<Vec<BackupRecord>, CryptoError> {
    let path = log_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CryptoError::io("reading backup log", &path, e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// `ARCHIVE.sig`.
pub fn signature_path(archive: &Path) -> PathBuf {
    let mut s = archive.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

fn signer_id(vk: &VerifyingKey) -> String {
    crate::hex::encode(&crate::sm3::sm3(&vk.to_sec1_bytes()))
}

/// Writer that forwards to a file while hashing for the SM2 signature and the log.
struct HashingWriter<W: Write> {
    inner: W,
    signed: Sm3,
    plain: Sm3,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.signed.update(&buf[..n]);
        self.plain.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Counts bytes written through it.
struct CountingWriter<W: Write> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> CryptoError + 'a {
    move |e| CryptoError::io(action, path, e)
}

/// Files under `dir` that are never put in a backup: the master key must not travel
/// with the data it protects; the keyring's lock file is empty and only means something
/// to the processes running now.
fn excluded(rel: &Path) -> bool {
    rel == Path::new("keys/kek.key")
        || rel == Path::new("keys/kek.key.new")
        || rel == Path::new("keys/keyring.json.lock")
}

/// Back up `source` into `archive` (+ `archive.sig`), encrypted under the active
/// version of `key_id` and signed by `node_key`. `exclude` lists paths (e.g. the archive
/// itself when it is written inside `source`) to leave out.
pub fn create(
    source: &Path,
    archive: &Path,
    keyring: &Keyring,
    key_id: &str,
    node_key: &SigningKey,
) -> Result<BackupRecord, BackupError> {
    create_with(
        source,
        archive,
        keyring,
        key_id,
        node_key,
        &CreateOptions::default(),
    )
}

/// Called as a backup goes: (bytes of files archived so far, bytes of all files to
/// archive).
pub type BackupProgress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// What else [`create_with`] may be told.
#[derive(Default)]
pub struct CreateOptions<'a> {
    /// Paths relative to the source (files or whole directories) to leave out, besides
    /// the master key and the archive itself.
    pub exclude: Vec<PathBuf>,
    /// Progress, if wanted (the files are measured first).
    pub progress: Option<BackupProgress<'a>>,
    /// Makes, in the private temporary directory it is given, files to archive in place
    /// of live ones: consistent copies of databases another process writes (the CLI and
    /// the server pass `shuan_store::snapshot_databases`). Each live file's `-wal`,
    /// `-shm` and `-journal` companions are left out with it. The directory is removed
    /// when the backup ends, and swept after a crash.
    pub snapshots: Option<&'a SnapshotFn<'a>>,
}

/// See [`CreateOptions::snapshots`]: given a private temporary directory, the files to
/// archive in place of live ones, or why they could not be made.
pub type SnapshotFn<'f> = dyn Fn(&Path) -> Result<Vec<Substitute>, String> + Sync + 'f;

/// A file archived under another file's name.
#[derive(Debug, Clone)]
pub struct Substitute {
    /// The name in the archive, relative to the source (the live file's).
    pub relative: PathBuf,
    /// The file whose bytes are archived.
    pub file: PathBuf,
}

/// Whether `rel` is a substituted file or one of its SQLite companions.
fn substituted(rel: &Path, substitutes: &[Substitute]) -> bool {
    substitutes.iter().any(|s| {
        rel == s.relative
            || ["-wal", "-shm", "-journal"].iter().any(|suffix| {
                let mut companion = s.relative.clone().into_os_string();
                companion.push(suffix);
                rel == Path::new(&companion)
            })
    })
}

/// Reads exactly `remaining` bytes of a file measured when it was opened: a file that
/// grows while it is archived (a ledger segment being appended to) contributes the
/// bytes it had, matching the size its tar header states; one that shrinks fails the
/// backup instead of writing a corrupt archive.
struct ExactLen<R> {
    inner: std::io::Take<R>,
    remaining: u64,
}

impl<R: Read> Read for ExactLen<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being archived",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Appends the regular file `path` as `rel`, its size fixed when it is opened.
fn append_regular<W: Write>(
    tar: &mut tar::Builder<W>,
    rel: &Path,
    path: &Path,
) -> Result<u64, CryptoError> {
    let f = File::open(path).map_err(io_err("reading", path))?;
    let meta = f.metadata().map_err(io_err("reading", path))?;
    let len = meta.len();
    let mut header = tar::Header::new_gnu();
    header.set_metadata(&meta);
    header.set_size(len);
    let data = ExactLen {
        inner: f.take(len),
        remaining: len,
    };
    tar.append_data(&mut header, rel, data)
        .map_err(io_err("archiving", path))?;
    Ok(len)
}

/// The files a backup of `source` would hold and their total size (for progress).
fn measure(source: &Path, skip: &dyn Fn(&Path, &std::fs::DirEntry) -> bool) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![source.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(source).unwrap_or(&path).to_path_buf();
            if skip(&rel, &e) {
                continue;
            }
            match e.file_type() {
                Ok(ft) if ft.is_dir() => stack.push(path),
                Ok(ft) if ft.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

/// [`create`] with options: more exclusions and progress.
pub fn create_with(
    source: &Path,
    archive: &Path,
    keyring: &Keyring,
    key_id: &str,
    node_key: &SigningKey,
    options: &CreateOptions<'_>,
) -> Result<BackupRecord, BackupError> {
    let (version, key) = keyring.active_key(key_id)?;
    let vk = node_key.verifying_key();
    let tmp_dir = archive
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = crate::fsutil::temp_file_in(tmp_dir, "backup")?;
    let (_snapshot_dir, substitutes) = match options.snapshots {
        Some(make) => {
            let dir = crate::fsutil::temp_dir_in(tmp_dir, "snapshots")?;
            let made = make(dir.path()).map_err(BackupError::Snapshot)?;
            (Some(dir), made)
        }
        None => (None, Vec::new()),
    };
    let archive_abs = std::fs::canonicalize(tmp_dir)
        .ok()
        .map(|d| d.join(archive.file_name().unwrap_or_default()));
    let hw = HashingWriter {
        inner: BufWriter::with_capacity(1 << 16, tmp.reopen().map_err(io_err("writing", archive))?),
        signed: vk.message_hasher(),
        plain: Sm3::new(),
    };
    let env = EnvelopeWriter::new(key_id, version, &key, hw).map_err(envelope_error(archive))?;
    let mut tar = tar::Builder::new(CountingWriter { inner: env, n: 0 });
    tar.follow_symlinks(false);
    let skip = |rel: &Path, e: &std::fs::DirEntry| {
        excluded(rel)
            || options.exclude.iter().any(|x| rel.starts_with(x))
            || substituted(rel, &substitutes)
            || e.file_name()
                .to_string_lossy()
                .starts_with(crate::fsutil::TEMP_PREFIX)
            || archive_abs
                .as_deref()
                .is_some_and(|a| std::fs::canonicalize(e.path()).ok().as_deref() == Some(a))
    };
    let total = match options.progress {
        Some(_) => {
            measure(source, &skip)
                + substitutes
                    .iter()
                    .map(|s| std::fs::metadata(&s.file).map(|m| m.len()).unwrap_or(0))
                    .sum::<u64>()
        }
        None => 0,
    };
    let mut done = 0u64;
    let mut files = 0u64;
    let mut stack = vec![source.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io_err("listing", &dir))?
            .collect::<Result<_, _>>()
            .map_err(io_err("listing", &dir))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = path
                .strip_prefix(source)
                .expect("walk stays under source")
                .to_path_buf();
            if skip(&rel, &e) {
                continue;
            }
            let ft = e.file_type().map_err(io_err("reading", &path))?;
            if ft.is_dir() {
                tar.append_dir(&rel, &path)
                    .map_err(io_err("archiving", &path))?;
                stack.push(path);
            } else if ft.is_file() {
                done += append_regular(&mut tar, &rel, &path)?;
                files += 1;
                if let Some(progress) = options.progress {
                    progress(done.min(total), total);
                }
            }
        }
    }
    for s in &substitutes {
        done += append_regular(&mut tar, &s.relative, &s.file)?;
        files += 1;
        if let Some(progress) = options.progress {
            progress(done.min(total), total);
        }
    }
    let counting = tar.into_inner().map_err(io_err("archiving", source))?;
    let bytes = counting.n;
    let (_, hw) = counting.inner.finish().map_err(envelope_error(archive))?;
    let HashingWriter {
        mut inner,
        signed,
        plain,
    } = hw;
    inner.flush().map_err(io_err("writing", archive))?;
    drop(inner);
    let sig = node_key.sign_digest(&signed.finalize());
    tmp.as_file()
        .sync_all()
        .map_err(io_err("writing", archive))?;
    tmp.persist(archive)
        .map_err(|e| CryptoError::io("writing", archive, e.error))?;
    crate::fsutil::write_atomic(&signature_path(archive), &sig.to_der(), 0o644)?;
    Ok(BackupRecord {
        action: "create".into(),
        time: crate::time::now_rfc3339(),
        archive: archive.to_path_buf(),
        directory: Some(source.to_path_buf()),
        files: Some(files),
        bytes,
        key_id: key_id.to_string(),
        key_version: version,
        archive_sm3: crate::hex::encode(&plain.finalize()),
        signer: signer_id(&vk),
        result: "ok".into(),
    })
}

/// A backup of a node's data directory: what `shuan backup create` and the server's
/// backup jobs do.
pub struct NodeBackupRequest<'a> {
    /// The directory to back up (the data directory).
    pub source: &'a Path,
    /// The node's data directory (its signing key; usually `source`).
    pub data_dir: &'a Path,
    /// The archive to write (`ARCHIVE.sig` beside it).
    pub archive: &'a Path,
    /// Data key id; `None`: [`BACKUP_KEY_ID`], created on first use.
    pub key_id: Option<&'a str>,
    /// Exclusions and progress.
    pub options: CreateOptions<'a>,
}

/// Backs up `req.source`: creates the default backup key on first use, loads (or makes)
/// the node's SM2 key, and writes the encrypted, signed archive. The caller appends the
/// record to the backup log ([`append_log`]) and its audit ledger.
pub fn create_node_backup(
    keyring: &mut Keyring,
    req: &NodeBackupRequest<'_>,
) -> Result<BackupRecord, BackupError> {
    let id = req.key_id.unwrap_or(BACKUP_KEY_ID);
    if id == BACKUP_KEY_ID {
        match keyring.create_key(BACKUP_KEY_ID) {
            Ok(()) | Err(KeyringError::KeyExists(_)) => {}
            Err(e) => return Err(BackupError::CreateKey(e)),
        }
    }
    let node = crate::node::load_or_create_node_key(req.data_dir).map_err(BackupError::NodeKey)?;
    create_with(req.source, req.archive, keyring, id, &node, &req.options)
}

/// The backup log's record of a failed `action` on `archive`.
pub fn failure_record(action: &str, archive: &Path, error: &str) -> BackupRecord {
    BackupRecord {
        action: action.to_string(),
        time: crate::time::now_rfc3339(),
        archive: archive.to_path_buf(),
        directory: None,
        files: None,
        bytes: 0,
        key_id: String::new(),
        key_version: 0,
        archive_sm3: String::new(),
        signer: String::new(),
        result: format!("failed: {error}"),
    }
}

/// Check `archive`'s signature; returns the archive's SM3.
fn check_signature(archive: &Path, node_pub: &VerifyingKey) -> Result<String, BackupError> {
    let sig_path = signature_path(archive);
    let der = match std::fs::read(&sig_path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BackupError::MissingSignature(sig_path))
        }
        Err(e) => return Err(CryptoError::io("reading", &sig_path, e).into()),
    };
    let sig =
        Signature::from_der(&der).map_err(|_| BackupError::BadSignature(archive.to_path_buf()))?;
    let mut f = BufReader::with_capacity(
        1 << 16,
        File::open(archive).map_err(io_err("reading", archive))?,
    );
    let mut signed = node_pub.message_hasher();
    let mut plain = Sm3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err("reading", archive))?;
        if n == 0 {
            break;
        }
        signed.update(&buf[..n]);
        plain.update(&buf[..n]);
    }
    node_pub
        .verify_digest(&signed.finalize(), &sig)
        .map_err(|_| BackupError::BadSignature(archive.to_path_buf()))?;
    Ok(crate::hex::encode(&plain.finalize()))
}

fn decrypt_to<W: Write>(
    archive: &Path,
    keyring: &Keyring,
    out: W,
) -> Result<(Header, u64), BackupError> {
    let OpenedArchive {
        header,
        key,
        reader: mut f,
    } = open_archive(archive, keyring)?;
    let mut out = out;
    let n = crate::envelope::decrypt(&header, &key, &mut f, &mut out)
        .map_err(envelope_error(archive))?;
    Ok((header, n))
}

/// An archive opened for decryption: its header, the data key it names, and the reader
/// positioned after the header.
struct OpenedArchive {
    header: Header,
    key: Zeroizing<[u8; 16]>,
    reader: BufReader<File>,
}

/// Opens `archive`, reads its envelope header and looks up the data key it names.
fn open_archive(archive: &Path, keyring: &Keyring) -> Result<OpenedArchive, BackupError> {
    let mut f = BufReader::with_capacity(
        1 << 16,
        File::open(archive).map_err(io_err("reading", archive))?,
    );
    let header = Header::read_from(&mut f).map_err(envelope_error(archive))?;
    let key = keyring.key(&header.key_id, header.key_version)?;
    Ok(OpenedArchive {
        header,
        key,
        reader: f,
    })
}

/// Names `archive` in an envelope error.
fn envelope_error(archive: &Path) -> impl Fn(EnvelopeError) -> BackupError + '_ {
    move |source| BackupError::Envelope {
        path: archive.to_path_buf(),
        source,
    }
}

/// Check the signature and every chunk tag of `archive` without writing plaintext.
pub fn verify(
    archive: &Path,
    keyring: &Keyring,
    node_pub: &VerifyingKey,
) -> Result<BackupRecord, BackupError> {
    let archive_sm3 = check_signature(archive, node_pub)?;
    let (header, bytes) = decrypt_to(archive, keyring, std::io::sink())?;
    Ok(BackupRecord {
        action: "verify".into(),
        time: crate::time::now_rfc3339(),
        archive: archive.to_path_buf(),
        directory: None,
        files: None,
        bytes,
        key_id: header.key_id,
        key_version: header.key_version,
        archive_sm3,
        signer: signer_id(node_pub),
        result: "ok".into(),
    })
}

/// Verify `archive`'s signature, then unpack it into `target` (which must be empty or
/// missing unless `force`) as it is decrypted.
///
/// No plaintext copy of the archive is ever written: the decrypted stream goes straight
/// into the tar reader. Each regular file is written to a temporary name in its
/// destination directory (starting with `.shuan-tmp-`) and nothing is renamed into place
/// until the whole archive, its final chunk included, has authenticated; then every file
/// is renamed over its real name (a `--force` restore replaces an existing file whole,
/// never truncating it). On any error the temporaries and the directories this restore
/// created are removed, so a failed restore leaves no partial file under a real name.
pub fn restore(
    archive: &Path,
    target: &Path,
    keyring: &Keyring,
    node_pub: &VerifyingKey,
    force: bool,
) -> Result<BackupRecord, BackupError> {
    if target.exists() {
        let non_empty = std::fs::read_dir(target)
            .map_err(io_err("reading", target))?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(BackupError::TargetNotEmpty(target.to_path_buf()));
        }
    }
    let archive_sm3 = check_signature(archive, node_pub)?;
    let mut staging = Staging::default();
    match unpack_verified(archive, target, keyring, &mut staging) {
        Ok((header, bytes, files)) => {
            staging.commit()?;
            Ok(BackupRecord {
                action: "restore".into(),
                time: crate::time::now_rfc3339(),
                archive: archive.to_path_buf(),
                directory: Some(target.to_path_buf()),
                files: Some(files),
                bytes,
                key_id: header.key_id,
                key_version: header.key_version,
                archive_sm3,
                signer: signer_id(node_pub),
                result: "ok".into(),
            })
        }
        Err(e) => {
            staging.abandon();
            Err(e)
        }
    }
}

/// What a restore drill (恢复演练, R-10) found.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DrillReport {
    /// The archive drilled.
    pub archive: PathBuf,
    /// SM3 of the archive file, hex.
    pub archive_sm3: String,
    /// Regular files restored.
    pub files: u64,
    /// Their bytes.
    pub file_bytes: u64,
    /// SM3 over the sorted lines `path NUL sm3-of-content LF` of every restored file: the
    /// content digest of the restored tree.
    pub tree_sm3: String,
    /// Keyring key id and version that encrypted the archive.
    pub key_id: String,
    /// Key version.
    pub key_version: u32,
}

/// The prefix of a drill's scratch directory.
pub const DRILL_SCRATCH_PREFIX: &str = ".shuan-drill-";

/// Removes the scratch directories that drills left under `scratch_parent` when their
/// process was killed mid-drill (a drill removes its own on every path it returns by);
/// answers how many were removed. Call it only when no drill runs in this directory.
pub fn sweep_drill_scratch(scratch_parent: &Path) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(scratch_parent) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let is_scratch = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(DRILL_SCRATCH_PREFIX));
        // A link is never followed out of the directory.
        if is_scratch && entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A restore drill: restores `archive` into a scratch directory made under
/// `scratch_parent` (removed before this returns, whatever happens), reads every
/// restored file back and digests it, and checks what was restored against the
/// archive's creation record when one is given (`expected`: the same archive SM3 and
/// number of files). The archive's signature and every chunk's tag are checked by the
/// restore itself, so a changed byte anywhere fails the drill.
pub fn drill(
    archive: &Path,
    keyring: &Keyring,
    node_pub: &VerifyingKey,
    scratch_parent: &Path,
    expected: Option<&BackupRecord>,
) -> Result<DrillReport, BackupError> {
    crate::fsutil::create_private_dir(scratch_parent)?;
    let scratch = tempfile::Builder::new()
        .prefix(DRILL_SCRATCH_PREFIX)
        .tempdir_in(scratch_parent)
        .map_err(io_err(
            "creating the drill's scratch directory in",
            scratch_parent,
        ))?;
    let target = scratch.path().join("restored");
    let record = restore(archive, &target, keyring, node_pub, false)?;
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut file_bytes = 0u64;
    let mut stack = vec![target.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io_err("reading", &dir))? {
            let entry = entry.map_err(io_err("reading", &dir))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(io_err("reading", &path))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let mut hasher = Sm3::new();
                let mut f = File::open(&path).map_err(io_err("reading back", &path))?;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = f.read(&mut buf).map_err(io_err("reading back", &path))?;
                    if n == 0 {
                        break;
                    }
                    file_bytes += n as u64;
                    hasher.update(&buf[..n]);
                }
                let rel = path
                    .strip_prefix(&target)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                lines.push((rel, crate::hex::encode(&hasher.finalize())));
            }
        }
    }
    lines.sort();
    let mut tree = Sm3::new();
    for (path, digest) in &lines {
        tree.update(path.as_bytes());
        tree.update(&[0]);
        tree.update(digest.as_bytes());
        tree.update(b"\n");
    }
    let report = DrillReport {
        archive: archive.to_path_buf(),
        archive_sm3: record.archive_sm3.clone(),
        files: lines.len() as u64,
        file_bytes,
        tree_sm3: crate::hex::encode(&tree.finalize()),
        key_id: record.key_id,
        key_version: record.key_version,
    };
    if let Some(made) = expected {
        if made.archive_sm3 != report.archive_sm3 {
            return Err(BackupError::DrillMismatch(format!(
                "the archive's SM3 {} is not the {} recorded when it was made",
                report.archive_sm3, made.archive_sm3
            )));
        }
        if let Some(files) = made.files {
            if files != report.files {
                return Err(BackupError::DrillMismatch(format!(
                    "{} files were restored where {files} were backed up",
                    report.files
                )));
            }
        }
    }
    drop(scratch);
    Ok(report)
}

/// What a restore has put on disk so far, so that it can be completed or undone.
#[derive(Default)]
struct Staging {
    /// Restored files under their temporary names, with their real names. Dropping a
    /// `TempPath` removes the temporary (also when unwinding).
    files: Vec<(tempfile::TempPath, PathBuf)>,
    /// Directories this restore created, parents first.
    created_dirs: Vec<PathBuf>,
}

impl Staging {
    /// Create `dir` and any missing parents, remembering which ones were new.
    fn create_dir_all(&mut self, dir: &Path) -> Result<(), CryptoError> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.as_os_str().is_empty() || d.is_dir() {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            crate::fsutil::create_private_dir(&d)?;
            self.created_dirs.push(d);
        }
        Ok(())
    }

    /// Rename every staged file over its real name, then make the renames durable.
    fn commit(self) -> Result<(), BackupError> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut pending = self.files.into_iter();
        for (tmp, real) in pending.by_ref() {
            if let Err(e) = tmp.persist(&real) {
                // Dropping `e` (and the iterator's rest) removes the temporaries left.
                return Err(CryptoError::io("restoring", &real, e.error).into());
            }
            if let Some(parent) = real.parent() {
                if !dirs.iter().any(|d| d == parent) {
                    dirs.push(parent.to_path_buf());
                }
            }
        }
        for d in dirs {
            crate::fsutil::sync_dir(&d)?;
        }
        Ok(())
    }

    /// Remove the temporaries, then the directories this restore created (if empty).
    fn abandon(mut self) {
        self.files.clear();
        for d in self.created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// `target/rel` for an archive member name made only of normal components; `None` for
/// an absolute name or one with `..` (which this crate never writes).
fn member_path(target: &Path, rel: &Path) -> Option<PathBuf> {
    let mut out = target.to_path_buf();
    let mut any = false;
    for c in rel.components() {
        match c {
            std::path::Component::Normal(part) => {
                out.push(part);
                any = true;
            }
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    any.then_some(out)
}

/// Decrypt `archive` into the tar reader and stage its members under `target`; returns
/// the header, the plaintext size and the number of regular files, once the whole
/// archive has authenticated.
fn unpack_verified(
    archive: &Path,
    target: &Path,
    keyring: &Keyring,
    staging: &mut Staging,
) -> Result<(Header, u64, u64), BackupError> {
    let envelope_err = envelope_error(archive);
    let OpenedArchive {
        header,
        key,
        reader: input,
    } = open_archive(archive, keyring)?;
    let plain = DecryptReader::new(&header, &key, input).map_err(&envelope_err)?;
    staging.create_dir_all(target)?;
    let target_canon = std::fs::canonicalize(target).map_err(io_err("reading", target))?;
    let mut ar = tar::Archive::new(plain);
    let unpacked = stage_members(&mut ar, archive, &target_canon, staging);
    let mut plain = ar.into_inner();
    // A failure of the decryption itself (tampering, truncation) is the real cause of
    // whatever the tar reader then reported.
    if let Some(e) = plain.take_failure() {
        return Err(envelope_err(e));
    }
    let files = unpacked?;
    // The tar reader stops at its end-of-archive marker; read the rest so that the final
    // chunk, which proves nothing was cut off, is authenticated before anything is
    // renamed into place.
    let drained = std::io::copy(&mut plain, &mut std::io::sink());
    if let Some(e) = plain.take_failure() {
        return Err(envelope_err(e));
    }
    drained.map_err(io_err("reading", archive))?;
    if !plain.is_complete() {
        return Err(envelope_err(EnvelopeError::Truncated { chunks_ok: 0 }));
    }
    Ok((header, plain.plaintext_len(), files))
}

fn stage_members<R: Read>(
    ar: &mut tar::Archive<R>,
    archive: &Path,
    target: &Path,
    staging: &mut Staging,
) -> Result<u64, BackupError> {
    let bad_member = |what: String| {
        CryptoError::io(
            "unpacking",
            archive,
            std::io::Error::new(std::io::ErrorKind::InvalidData, what),
        )
    };
    let mut files = 0u64;
    for entry in ar.entries().map_err(io_err("unpacking", archive))? {
        let mut entry = entry.map_err(io_err("unpacking", archive))?;
        let rel = entry
            .path()
            .map_err(io_err("unpacking", archive))?
            .into_owned();
        let dest = member_path(target, &rel)
            .ok_or_else(|| bad_member(format!("member {} leaves the target", rel.display())))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            staging.create_dir_all(&dest)?;
            continue;
        }
        if !kind.is_file() {
            return Err(bad_member(format!(
                "member {} is neither a file nor a directory",
                rel.display()
            ))
            .into());
        }
        if dest.is_dir() {
            // Found now, before anything is renamed, rather than half-way through the
            // renames.
            return Err(bad_member(format!(
                "cannot restore file {}: a directory is in its place",
                rel.display()
            ))
            .into());
        }
        let parent = dest.parent().unwrap_or(target);
        staging.create_dir_all(parent)?;
        // A symbolic link already in a --force target must not carry a file outside it.
        let parent_canon = std::fs::canonicalize(parent).map_err(io_err("reading", parent))?;
        if !parent_canon.starts_with(target) {
            return Err(bad_member(format!(
                "member {} would be written outside the target through a link",
                rel.display()
            ))
            .into());
        }
        let mut tmp = crate::fsutil::temp_file_in(parent, "restore")?;
        std::io::copy(&mut entry, tmp.as_file_mut()).map_err(io_err("restoring", &dest))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Permission bits only: set-id bits are not restored.
            let mode = entry.header().mode().unwrap_or(0o600) & 0o777;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(io_err("restoring", &dest))?;
        }
        if let Ok(mtime) = entry.header().mtime() {
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
            let _ = tmp.as_file().set_modified(when);
        }
        tmp.as_file()
            .sync_all()
            .map_err(io_err("restoring", &dest))?;
        staging.files.push((tmp.into_temp_path(), dest));
        files += 1;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {

    #[test]
    fn sweep_removes_only_left_drill_scratch_directories() {
        let dir = tempfile::tempdir().unwrap();
        let left = dir.path().join(format!("{DRILL_SCRATCH_PREFIX}abc123"));
        std::fs::create_dir_all(left.join("restored/sub")).unwrap();
        std::fs::write(left.join("restored/sub/people.csv"), "x").unwrap();
        std::fs::create_dir(dir.path().join("keep")).unwrap();
        std::fs::write(
            dir.path().join(format!("{DRILL_SCRATCH_PREFIX}a-file")),
            "x",
        )
        .unwrap();
        assert_eq!(sweep_drill_scratch(dir.path()).unwrap(), 1);
        assert!(!left.exists());
        assert!(dir.path().join("keep").is_dir());
        assert!(dir
            .path()
            .join(format!("{DRILL_SCRATCH_PREFIX}a-file"))
            .is_file());
        assert_eq!(sweep_drill_scratch(&dir.path().join("absent")).unwrap(), 0);
    }
    use super::*;
    use crate::keyring::KekSource;

    fn setup() -> (tempfile::TempDir, Keyring, SigningKey) {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        let mut kr = Keyring::init(&data, KekSource::File).unwrap();
        kr.create_key(BACKUP_KEY_ID).unwrap();
        let nk = crate::node::load_or_create_node_key(&data).unwrap();
        std::fs::create_dir_all(data.join("ledger/seg")).unwrap();
        std::fs::write(data.join("ledger/seg/000001.log"), vec![42u8; 100_000]).unwrap();
        std::fs::write(data.join("inventory.db"), b"sqlite stand-in").unwrap();
        (d, kr, nk)
    }

    #[test]
    fn create_verify_restore_roundtrip() {
        let (d, kr, nk) = setup();
        let data = d.path().join("data");
        let out = d.path().join("b.shuanbak");
        let rec = create(&data, &out, &kr, BACKUP_KEY_ID, &nk).unwrap();
        // inventory.db, ledger/seg/000001.log, node key + pub, keyring.json (kek.key excluded)
        assert_eq!(rec.files, Some(5));
        let vk = nk.verifying_key();
        let v = verify(&out, &kr, &vk).unwrap();
        assert_eq!(v.archive_sm3, rec.archive_sm3);
        let target = d.path().join("restored");
        restore(&out, &target, &kr, &vk, false).unwrap();
        assert_eq!(
            std::fs::read(target.join("ledger/seg/000001.log")).unwrap(),
            vec![42u8; 100_000]
        );
        assert!(
            !target.join("keys/kek.key").exists(),
            "the KEK never goes into a backup"
        );
        assert_eq!(temporaries_under(&target), Vec::<PathBuf>::new());
        assert!(matches!(
            restore(&out, &target, &kr, &vk, false),
            Err(BackupError::TargetNotEmpty(_))
        ));
    }

    #[test]
    fn a_drill_restores_digests_and_cleans_up_and_a_changed_byte_fails_it() {
        let (d, kr, nk) = setup();
        let data = d.path().join("data");
        let out = d.path().join("b.shuanbak");
        let rec = create(&data, &out, &kr, BACKUP_KEY_ID, &nk).unwrap();
        let vk = nk.verifying_key();
        let scratch = d.path().join("scratch");
        let report = drill(&out, &kr, &vk, &scratch, Some(&rec)).unwrap();
        assert_eq!(report.files, 5);
        assert_eq!(report.archive_sm3, rec.archive_sm3);
        assert!(report.file_bytes >= 100_000);
        // The tree digest is the content: an independent restore digests the same.
        let again = drill(&out, &kr, &vk, &scratch, None).unwrap();
        assert_eq!(again.tree_sm3, report.tree_sm3);
        assert_eq!(
            std::fs::read_dir(&scratch).unwrap().count(),
            0,
            "scratch removed"
        );
        // Another archive's creation record does not match.
        let mut other = rec.clone();
        other.archive_sm3 = "00".repeat(32);
        assert!(matches!(
            drill(&out, &kr, &vk, &scratch, Some(&other)),
            Err(BackupError::DrillMismatch(_))
        ));
        // One changed byte fails the drill and leaves no scratch behind.
        let mut bytes = std::fs::read(&out).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(&out, bytes).unwrap();
        assert!(drill(&out, &kr, &vk, &scratch, Some(&rec)).is_err());
        assert_eq!(
            std::fs::read_dir(&scratch).unwrap().count(),
            0,
            "scratch removed"
        );
    }

    #[test]
    fn tampering_and_wrong_signer_are_refused() {
        let (d, kr, nk) = setup();
        let data = d.path().join("data");
        let out = d.path().join("b.shuanbak");
        create(&data, &out, &kr, BACKUP_KEY_ID, &nk).unwrap();
        let other = SigningKey::generate().verifying_key();
        assert!(matches!(
            verify(&out, &kr, &other),
            Err(BackupError::BadSignature(_))
        ));
        let mut bytes = std::fs::read(&out).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(&out, &bytes).unwrap();
        assert!(matches!(
            verify(&out, &kr, &nk.verifying_key()),
            Err(BackupError::BadSignature(_))
        ));
        let target = d.path().join("r");
        assert!(restore(&out, &target, &kr, &nk.verifying_key(), false).is_err());
        assert!(!target.exists() || std::fs::read_dir(&target).unwrap().next().is_none());
        std::fs::remove_file(signature_path(&out)).unwrap();
        assert!(matches!(
            verify(&out, &kr, &nk.verifying_key()),
            Err(BackupError::MissingSignature(_))
        ));
    }

    #[test]
    fn substitutes_are_archived_in_place_of_live_files_and_their_logs() {
        let (d, kr, nk) = setup();
        let data = d.path().join("data");
        // A live database with a write-ahead log the copy already holds.
        std::fs::write(data.join("inventory.db-wal"), b"log of the live file").unwrap();
        std::fs::write(data.join("inventory.db-shm"), b"shared memory").unwrap();
        let seen_tmp = std::sync::Mutex::new(None);
        let make = |tmp: &Path| {
            *seen_tmp.lock().unwrap() = Some(tmp.to_path_buf());
            let copy = tmp.join("inventory.db");
            std::fs::write(&copy, b"consistent copy").map_err(|e| e.to_string())?;
            Ok(vec![Substitute {
                relative: PathBuf::from("inventory.db"),
                file: copy,
            }])
        };
        let out = d.path().join("b.shuanbak");
        let options = CreateOptions {
            snapshots: Some(&make),
            ..Default::default()
        };
        let rec = create_with(&data, &out, &kr, BACKUP_KEY_ID, &nk, &options).unwrap();
        assert_eq!(
            rec.files,
            Some(5),
            "the copy counts once, the logs not at all"
        );
        let tmp = seen_tmp.lock().unwrap().clone().unwrap();
        assert!(!tmp.exists(), "the snapshot directory outlived the backup");
        let target = d.path().join("restored");
        restore(&out, &target, &kr, &nk.verifying_key(), false).unwrap();
        assert_eq!(
            std::fs::read(target.join("inventory.db")).unwrap(),
            b"consistent copy"
        );
        assert!(!target.join("inventory.db-wal").exists());
        assert!(!target.join("inventory.db-shm").exists());
        // The live files are untouched.
        assert_eq!(
            std::fs::read(data.join("inventory.db")).unwrap(),
            b"sqlite stand-in"
        );

        // A snapshot that cannot be made fails the backup and leaves no archive.
        let failing = |_: &Path| Err::<Vec<Substitute>, String>("database is locked".into());
        let out2 = d.path().join("c.shuanbak");
        let options = CreateOptions {
            snapshots: Some(&failing),
            ..Default::default()
        };
        let err = create_with(&data, &out2, &kr, BACKUP_KEY_ID, &nk, &options).unwrap_err();
        assert!(
            matches!(&err, BackupError::Snapshot(m) if m.contains("locked")),
            "{err}"
        );
        assert!(!out2.exists());
        assert_eq!(temporaries_under(d.path()), Vec::<PathBuf>::new());
    }

    #[test]
    fn log_roundtrip() {
        let d = tempfile::tempdir().unwrap();
        let rec = BackupRecord {
            action: "verify".into(),
            time: "t".into(),
            archive: "a".into(),
            directory: None,
            files: None,
            bytes: 1,
            key_id: "backup".into(),
            key_version: 1,
            archive_sm3: "00".into(),
            signer: "11".into(),
            result: "ok".into(),
        };
        append_log(d.path(), &rec).unwrap();
        append_log(d.path(), &rec).unwrap();
        assert_eq!(read_log(d.path()).unwrap(), vec![rec.clone(), rec]);
    }

    /// Every file under `dir`, recursively.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    fn temporaries_under(dir: &Path) -> Vec<PathBuf> {
        files_under(dir)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(crate::fsutil::TEMP_PREFIX)
            })
            .collect()
    }

    /// Re-sign `archive` with `nk` after it was altered, as a signed-but-damaged archive
    /// (or one changed between the signature check and the decryption) would be.
    fn resign(archive: &Path, nk: &SigningKey) {
        let mut h = nk.verifying_key().message_hasher();
        h.update(&std::fs::read(archive).unwrap());
        std::fs::write(
            signature_path(archive),
            nk.sign_digest(&h.finalize()).to_der(),
        )
        .unwrap();
    }

    /// A source whose archive spans many 64 KiB chunks, with files on both sides of the
    /// chunk that the tests damage.
    fn multi_chunk_source(d: &Path) -> PathBuf {
        let src = d.join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        for (i, name) in ["a.bin", "b.bin", "sub/c.bin", "sub/d.bin", "e.bin"]
            .iter()
            .enumerate()
        {
            let body: Vec<u8> = format!("PLAINTEXT-MARKER-{i} ")
                .into_bytes()
                .into_iter()
                .cycle()
                .take(150_000)
                .collect();
            std::fs::write(src.join(name), body).unwrap();
        }
        src
    }

    /// A restore that fails part-way through the archive (a chunk fails authentication,
    /// or the archive was cut at a chunk boundary) leaves no file under a real name, no
    /// temporary and no plaintext anywhere; the target it created is gone again.
    #[test]
    fn a_restore_failing_mid_archive_leaves_nothing_behind() {
        let (d, kr, nk) = setup();
        let src = multi_chunk_source(d.path());
        let out = d.path().join("b.shuanbak");
        let rec = create(&src, &out, &kr, BACKUP_KEY_ID, &nk).unwrap();
        let good = std::fs::read(&out).unwrap();
        let record = 65536 + 16;
        let chunks = rec.bytes.div_ceil(65536).max(1) as usize;
        assert!(chunks > 9, "the archive spans many chunks");
        let header_len = good.len() - (rec.bytes as usize + chunks * 16);
        let damaged: Vec<(&str, Vec<u8>)> = vec![
            ("tampered chunk 7", {
                let mut b = good.clone();
                b[header_len + 7 * record + 100] ^= 0x20;
                b
            }),
            (
                "cut after chunk 8",
                good[..header_len + 8 * record].to_vec(),
            ),
        ];
        let vk = nk.verifying_key();
        for (what, bytes) in damaged {
            std::fs::write(&out, &bytes).unwrap();
            resign(&out, &nk);
            let target = d.path().join("restored");
            let err = restore(&out, &target, &kr, &vk, false).unwrap_err();
            assert!(matches!(err, BackupError::Envelope { .. }), "{what}: {err}");
            assert!(
                !target.exists(),
                "{what}: the target this restore created is removed"
            );
            // Nowhere in the test directory (outside the source) is there a temporary
            // or any plaintext of the backed-up files.
            for f in files_under(d.path()) {
                if f.starts_with(&src) {
                    continue;
                }
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    !name.starts_with(crate::fsutil::TEMP_PREFIX),
                    "{what}: {f:?}"
                );
                let body = std::fs::read(&f).unwrap();
                assert!(
                    !body.windows(17).any(|w| w == b"PLAINTEXT-MARKER-"),
                    "{what}: plaintext in {f:?}"
                );
            }
        }
    }

    /// A --force restore that fails after some members were unpacked (here: a member's
    /// place is taken by a directory) must not have replaced any file yet: before, the
    /// members before the failure were already written under their real names.
    #[test]
    fn a_failed_forced_restore_changes_no_existing_file() {
        let (d, kr, nk) = setup();
        let src = multi_chunk_source(d.path());
        let out = d.path().join("b.shuanbak");
        create(&src, &out, &kr, BACKUP_KEY_ID, &nk).unwrap();
        let target = d.path().join("existing");
        std::fs::create_dir_all(target.join("sub/d.bin")).unwrap();
        std::fs::write(target.join("a.bin"), b"old a").unwrap();
        std::fs::write(target.join("sub/c.bin"), b"old c").unwrap();
        let vk = nk.verifying_key();
        assert!(restore(&out, &target, &kr, &vk, true).is_err());
        assert!(std::fs::read(target.join("a.bin")).unwrap() == b"old a");
        assert!(std::fs::read(target.join("sub/c.bin")).unwrap() == b"old c");
        assert!(!target.join("b.bin").exists());
        assert!(!target.join("e.bin").exists());
        assert_eq!(temporaries_under(&target), Vec::<PathBuf>::new());
        // With the obstacle gone the same restore replaces the old files whole.
        std::fs::remove_dir(target.join("sub/d.bin")).unwrap();
        let rec = restore(&out, &target, &kr, &vk, true).unwrap();
        assert_eq!(rec.files, Some(5));
        for name in ["a.bin", "b.bin", "sub/c.bin", "sub/d.bin", "e.bin"] {
            assert!(
                std::fs::read(target.join(name)).unwrap() == std::fs::read(src.join(name)).unwrap(),
                "{name} restored whole"
            );
        }
        assert_eq!(temporaries_under(&target), Vec::<PathBuf>::new());
    }
}
