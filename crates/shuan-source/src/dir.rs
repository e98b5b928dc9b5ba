//! Directories: every supported file below it, recursively, by extension.
//!
//! Hidden entries (name starting with `.`) are ignored and symbolic links are not
//! followed: links can loop or leave the directory the user named; a link to a directory
//! or to a supported file is reported as skipped. Unreadable subdirectories and files that
//! fail to list (binary content under a text extension, corrupt workbooks) are skipped and
//! reported through [`crate::Source::skipped`].

use std::path::{Path, PathBuf};

use crate::files::{FileKind, FileSource};
use crate::{Skipped, SourceError, SourceOptions};

/// Deepest directory nesting walked.
const MAX_DEPTH: usize = 64;

pub(crate) struct DirSource;

impl DirSource {
    #[allow(clippy::new_ret_no_self)]
    pub(crate) fn open(root: &Path, options: SourceOptions) -> Result<FileSource, SourceError> {
        let root = &crate::files::canonical_path(root)?;
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        walk(root, 0, &mut files, &mut skipped)?;
        Ok(FileSource::open_many(
            root.display().to_string(),
            files,
            skipped,
            options,
        ))
    }
}

fn walk(
    dir: &Path,
    depth: usize,
    files: &mut Vec<(PathBuf, FileKind)>,
    skipped: &mut Vec<Skipped>,
) -> Result<(), SourceError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if depth == 0 => return Err(SourceError::io(dir, e)),
        Err(e) => {
            skipped.push(Skipped {
                path: dir.to_path_buf(),
                reason: format!("cannot read directory: {e}"),
                unreadable: true,
            });
            return Ok(());
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry),
            Err(e) => skipped.push(Skipped {
                path: dir.to_path_buf(),
                reason: format!("cannot list an entry: {e}"),
                unreadable: true,
            }),
        }
    }
    paths.sort_by_key(|e| e.file_name());
    for entry in paths {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                skipped.push(Skipped {
                    path,
                    reason: format!("cannot stat: {e}"),
                    unreadable: true,
                });
                continue;
            }
        };
        if file_type.is_symlink() {
            // Report links that lead to something that would have been read.
            let readable_target = std::fs::metadata(&path).is_ok_and(|target| {
                target.is_dir() || (target.is_file() && FileKind::from_extension(&path).is_some())
            });
            if readable_target {
                skipped.push(Skipped {
                    path,
                    reason: "symbolic link not followed (links can loop or leave the \
                             directory); scan its target directly"
                        .to_string(),
                    unreadable: false,
                });
            }
            continue;
        }
        if file_type.is_dir() {
            if depth + 1 >= MAX_DEPTH {
                skipped.push(Skipped {
                    path,
                    reason: format!("nested deeper than {MAX_DEPTH} directories"),
                    unreadable: false,
                });
            } else {
                walk(&path, depth + 1, files, skipped)?;
            }
        } else if file_type.is_file() {
            if let Some(kind) = FileKind::from_extension(&path) {
                files.push((path, kind));
            }
        }
    }
    Ok(())
}
