//! File helpers for secrets: owner-only permissions, atomic replacement.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::CryptoError;

/// Refuse a secret file that group or others can access (Unix).
pub(crate) fn check_private(path: &Path) -> Result<(), CryptoError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|e| CryptoError::io("reading", path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CryptoError::InsecurePermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    Ok(())
}

/// Read a secret text file after checking its permissions.
pub(crate) fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, CryptoError> {
    check_private(path)?;
    fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| CryptoError::io("reading", path, e))
}

fn open_options(mode: u32) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    o
}

/// Create a directory tree; new directories get mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), CryptoError> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| CryptoError::io("creating directory", dir, e))
}

/// Prefix of every temporary file this crate creates, so that a crash sweep (after a
/// SIGKILL) can find and remove them without touching anything else.
pub const TEMP_PREFIX: &str = shuan_output::TEMP_PREFIX;

/// A new, empty temporary file in `dir` (mode 0600) whose name starts with
/// [`TEMP_PREFIX`]; it is removed when dropped unless persisted.
pub(crate) fn temp_file_in(
    dir: &Path,
    label: &str,
) -> Result<tempfile::NamedTempFile, CryptoError> {
    // Named `.shuan-tmp-<pid>-…` in a watched directory, so that Ctrl-C (the CLI's
    // interrupt handler) and the sweep after a SIGKILL remove it even though no
    // destructor runs then.
    shuan_output::watch_dir(dir);
    tempfile::Builder::new()
        .prefix(&format!("{}{label}-", shuan_output::temp_prefix()))
        .tempfile_in(dir)
        .map_err(|e| CryptoError::io("creating a temporary file in", dir, e))
}

/// A new private temporary directory in `dir` (mode 0700), named like
/// [`temp_file_in`]'s files so the same sweeps remove it; removed when dropped.
pub(crate) fn temp_dir_in(dir: &Path, label: &str) -> Result<tempfile::TempDir, CryptoError> {
    shuan_output::watch_dir(dir);
    tempfile::Builder::new()
        .prefix(&format!("{}{label}-", shuan_output::temp_prefix()))
        .tempdir_in(dir)
        .map_err(|e| CryptoError::io("creating a temporary directory in", dir, e))
}

/// Make a rename or link inside `dir` durable: fsync the directory itself (Unix; on
/// other systems the rename is as durable as the platform makes it).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), CryptoError> {
    #[cfg(unix)]
    {
        let d = fs::File::open(dir).map_err(|e| CryptoError::io("opening directory", dir, e))?;
        d.sync_all()
            .map_err(|e| CryptoError::io("syncing directory", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Replace `path` atomically and durably: write a uniquely named temporary sibling
/// (so concurrent writers never share one), fsync it, rename it over `path`, fsync the
/// directory. Readers see the old or the new contents, never a mix.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), CryptoError> {
    let parent = parent_dir(path);
    create_private_dir(parent)?;
    let mut tmp = temp_file_in(parent, "write")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| CryptoError::io("setting permissions of", tmp.path(), e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| CryptoError::io("writing", path, e))?;
    tmp.persist(path)
        .map_err(|e| CryptoError::io("replacing", path, e.error))?;
    sync_dir(parent)
}

/// Publish `contents` at `path` only if nothing is there yet, never exposing a partial
/// file: the bytes go to a synced temporary which is then moved to `path` with a
/// no-replace rename (`renameat2(RENAME_NOREPLACE)`, or a hard link where the filesystem
/// lacks it; both fail atomically if `path` exists). Returns `false`, writing nothing,
/// when another writer got there first; whatever is at `path` is then complete.
pub(crate) fn publish_new_secret_file(path: &Path, contents: &[u8]) -> Result<bool, CryptoError> {
    let parent = parent_dir(path);
    create_private_dir(parent)?;
    let mut tmp = temp_file_in(parent, "new")?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| CryptoError::io("writing", tmp.path(), e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            sync_dir(parent)?;
            Ok(true)
        }
        // Dropping the error's temporary removes it.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(CryptoError::io("creating", path, e.error)),
    }
}

/// How long a keyring operation waits for another process's lock before giving up.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// An exclusive advisory lock (`flock`) on a lock file; released when dropped (or when
/// the process dies, so a crash never leaves the lock held).
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: fs::File,
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockFailure {
    /// Another holder kept it for the whole wait.
    TimedOut,
    /// The lock file could not be opened or locked.
    Io(CryptoError),
}

impl FileLock {
    /// Take the lock on `path` (created, mode 0600, if missing), waiting at most `wait`.
    pub(crate) fn acquire(path: &Path, wait: Duration) -> Result<Self, LockFailure> {
        let parent = parent_dir(path);
        create_private_dir(parent).map_err(LockFailure::Io)?;
        let file = open_options(0o600)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| LockFailure::Io(CryptoError::io("opening lock file", path, e)))?;
        let deadline = Instant::now() + wait;
        // Poll with a growing pause: a blocking `lock()` has no timeout, and the holders
        // of this lock keep it for milliseconds.
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => {
                    return Err(LockFailure::Io(CryptoError::io("locking", path, e)))
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LockFailure::TimedOut);
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}
