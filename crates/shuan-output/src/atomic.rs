//! Write a temporary sibling, rename it into place on success.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{OutputError, OutputRules, TempPath};

/// An output file under construction. It is written as a registered temporary beside
/// the target and appears under the target's name only on [`AtomicFile::commit`]; dropped
/// without a commit (an error, an early return) it leaves nothing behind.
///
/// The temporary is created with mode 0600, since what is written may be plaintext of
/// protected data; [`AtomicFile::commit`] gives the final file the mode asked for.
pub struct AtomicFile {
    target: PathBuf,
    replace: bool,
    mode: u32,
    writer: BufWriter<File>,
    temp: TempPath,
}

impl AtomicFile {
    /// Checks `target` against `rules` and starts a temporary beside it. The final file
    /// gets mode 0644; use [`AtomicFile::create_private`] for secrets and plaintext.
    pub fn create(target: &Path, rules: &OutputRules) -> Result<AtomicFile, OutputError> {
        Self::create_with_mode(target, rules, 0o644)
    }

    /// Like [`AtomicFile::create`], the final file owner-only (0600).
    pub fn create_private(target: &Path, rules: &OutputRules) -> Result<AtomicFile, OutputError> {
        Self::create_with_mode(target, rules, 0o600)
    }

    fn create_with_mode(
        target: &Path,
        rules: &OutputRules,
        mode: u32,
    ) -> Result<AtomicFile, OutputError> {
        rules.check(target)?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let hint = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (temp, file) = TempPath::create_in(dir, &hint)?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            replace: rules.allows_replace(),
            mode,
            writer: BufWriter::with_capacity(1 << 16, file),
            temp,
        })
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, makes the content durable, and moves it to the target's name. An
    /// existing target is replaced only if the rules allowed it — also one that appeared
    /// since the check.
    pub fn commit(self) -> Result<(), OutputError> {
        let AtomicFile {
            target,
            replace,
            mode,
            writer,
            temp,
        } = self;
        let file = writer
            .into_inner()
            .map_err(|e| OutputError::io("writing", &target, e.into_error()))?;
        set_mode(&file, mode).map_err(|e| OutputError::io("setting permissions of", &target, e))?;
        file.sync_all()
            .map_err(|e| OutputError::io("writing", &target, e))?;
        drop(file);
        temp.persist(&target, replace)?;
        sync_parent(&target);
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Makes the rename durable. Failure is not reported: the data is already durable and
/// in place; only its name could be lost by a power cut on some file systems.
fn sync_parent(target: &Path) {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `contents` to `target` atomically under `rules`.
pub fn write_file(target: &Path, rules: &OutputRules, contents: &[u8]) -> Result<(), OutputError> {
    let mut f = AtomicFile::create(target, rules)?;
    f.write_all(contents)
        .map_err(|e| OutputError::io("writing", target, e))?;
    f.commit()
}

/// Writes `contents` to `target` atomically under `rules`, owner-only (0600).
pub fn write_file_private(
    target: &Path,
    rules: &OutputRules,
    contents: &[u8],
) -> Result<(), OutputError> {
    let mut f = AtomicFile::create_private(target, rules)?;
    f.write_all(contents)
        .map_err(|e| OutputError::io("writing", target, e))?;
    f.commit()
}
