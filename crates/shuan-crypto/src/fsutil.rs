//! File helpers for secrets: owner-only permissions, atomic replacement.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

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

/// Create `path` (and its parent directories, 0700) with mode 0600; fails if it exists.
pub(crate) fn create_new_secret_file(path: &Path, contents: &[u8]) -> Result<(), CryptoError> {
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    let mut f = open_options(0o600)
        .create_new(true)
        .open(path)
        .map_err(|e| CryptoError::io("creating", path, e))?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .map_err(|e| CryptoError::io("writing", path, e))
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

/// Replace `path` atomically: write a temporary sibling, fsync, rename.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), CryptoError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    create_private_dir(parent)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut f = open_options(mode)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| CryptoError::io("creating", &tmp, e))?;
    let res = f.write_all(contents).and_then(|_| f.sync_all());
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(CryptoError::io("writing", &tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        CryptoError::io("replacing", path, e)
    })
}
