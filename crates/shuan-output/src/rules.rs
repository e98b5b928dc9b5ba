//! Which paths an output may take.

use std::path::{Component, Path, PathBuf};

use crate::OutputError;

/// The rules one output is checked against: the command's inputs, the directories no
/// output may enter, and whether an existing file may be replaced (`--force`).
#[derive(Debug, Clone, Default)]
pub struct OutputRules {
    inputs: Vec<PathBuf>,
    protected_dirs: Vec<PathBuf>,
    force: bool,
}

impl OutputRules {
    /// No inputs, no protected directory, existing files refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// An input of the command: the output may not be the same file (also through a
    /// link or another spelling of the path).
    pub fn input(mut self, path: impl Into<PathBuf>) -> Self {
        self.inputs.push(path.into());
        self
    }

    /// Several inputs.
    pub fn inputs<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.inputs.extend(paths.into_iter().map(Into::into));
        self
    }

    /// A directory no output may lie in (shuan's data directory).
    pub fn protect_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.protected_dirs.push(dir.into());
        self
    }

    /// Whether an existing file may be replaced.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Whether replacing an existing file was allowed.
    pub fn allows_replace(&self) -> bool {
        self.force
    }

    /// Checks `out` against the rules, without touching the file system beyond reading
    /// metadata.
    pub fn check(&self, out: &Path) -> Result<(), OutputError> {
        match std::fs::metadata(out) {
            Ok(meta) => {
                if meta.is_dir() {
                    return Err(OutputError::IsDirectory(out.to_path_buf()));
                }
                for input in &self.inputs {
                    if same_file::is_same_file(out, input).unwrap_or(false) {
                        return Err(OutputError::IsInput {
                            out: out.to_path_buf(),
                            input: input.clone(),
                        });
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(OutputError::io("checking output", out, e)),
        }
        // The output's directory must exist: say so here, before any work is done.
        let resolved = resolve(out)?;
        for dir in &self.protected_dirs {
            let dir_resolved = std::fs::canonicalize(dir).unwrap_or_else(|_| lexical(dir));
            if resolved.starts_with(&dir_resolved) {
                return Err(OutputError::InsideProtectedDir {
                    out: out.to_path_buf(),
                    dir: dir.clone(),
                });
            }
        }
        // Checked last, so that an output that is an input or lies in the data directory
        // is named as such even with --force.
        if !self.force && std::fs::symlink_metadata(out).is_ok() {
            return Err(OutputError::Exists(out.to_path_buf()));
        }
        Ok(())
    }
}

/// `out` with its directory resolved through the file system (symlinks followed) and its
/// own name kept.
fn resolve(out: &Path) -> Result<PathBuf, OutputError> {
    let name = out.file_name().ok_or_else(|| {
        OutputError::IsDirectory(out.to_path_buf()) // `..`, `/` or a path ending in `/`
    })?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = std::fs::canonicalize(parent)
        .map_err(|e| OutputError::io("finding the directory of output", out, e))?;
    // An existing symlink at `out` writes through to its target: resolve that too.
    match std::fs::canonicalize(out) {
        Ok(full) => Ok(full),
        Err(_) => Ok(parent.join(name)),
    }
}

/// An absolute, `.`/`..`-free form of a path that does not exist (yet).
fn lexical(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_input_data_dir_existing_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        std::fs::write(&input, "data").unwrap();
        let data_dir = dir.path().join("data");
        std::fs::create_dir(&data_dir).unwrap();

        let rules = OutputRules::new()
            .input(&input)
            .protect_dir(&data_dir)
            .force(true);
        // The same file through another spelling.
        let other = dir.path().join(".").join("in.txt");
        assert!(matches!(
            rules.check(&other),
            Err(OutputError::IsInput { .. })
        ));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.txt");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            assert!(matches!(
                rules.check(&link),
                Err(OutputError::IsInput { .. })
            ));
        }
        assert!(matches!(
            rules.check(&data_dir.join("inventory.db")),
            Err(OutputError::InsideProtectedDir { .. })
        ));
        std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
        assert!(matches!(
            rules.check(
                &dir.path()
                    .join("elsewhere")
                    .join("..")
                    .join("data")
                    .join("x")
            ),
            Err(OutputError::InsideProtectedDir { .. })
        ));
        assert!(matches!(
            rules.check(dir.path()),
            Err(OutputError::IsDirectory(_))
        ));
        assert!(rules.check(&dir.path().join("new.txt")).is_ok());

        let no_force = OutputRules::new().input(&input);
        let existing = dir.path().join("existing.txt");
        std::fs::write(&existing, "keep").unwrap();
        assert!(matches!(
            no_force.check(&existing),
            Err(OutputError::Exists(_))
        ));
        assert!(no_force.clone().force(true).check(&existing).is_ok());
        assert!(matches!(
            no_force.check(&dir.path().join("missing-dir").join("x")),
            Err(OutputError::Io { .. })
        ));
    }
}
