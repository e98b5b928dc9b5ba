//! Safe outputs (输出保护) for every shuan command and, later, the server's jobs: an output
//! never overwrites an input or the data directory, never replaces an existing file unless
//! asked to, appears under its real name only when complete, and no temporary outlives the
//! command — not on an error, not on Ctrl-C or SIGTERM, and not even after SIGKILL (the
//! next start sweeps what a killed run left).
//!
//! This crate owns three things: [`OutputRules`] (which paths an output may take),
//! [`AtomicFile`] (write a temporary sibling, rename into place on success) and the
//! process-wide registry of live temporaries ([`TempPath`], [`install_interrupt_handler`],
//! [`set_journal_dir`], [`sweep_journal_dir`]). It must not know what is written: it
//! neither formats, encrypts nor audits — callers do, and the interrupt handler hands the
//! audit record to a callback.
//!
//! Every temporary's file name starts with [`TEMP_PREFIX`], so a sweep can never delete a
//! file it did not create.

mod atomic;
mod rules;
mod temps;

use std::io;
use std::path::PathBuf;

pub use atomic::{write_file, write_file_private, AtomicFile};
pub use rules::OutputRules;
pub use temps::{
    end_of_process, install_interrupt_handler, is_interrupted, let_program_handle_interrupts,
    set_journal_dir, sweep_journal_dir, temp_prefix, watch_dir, TempPath, TEMP_PREFIX,
};

/// Why an output was refused or could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output names a file that is also an input.
    #[error(
        "output {out} is the input {input}: writing it would destroy the input; \
         choose another output path"
    )]
    IsInput {
        /// The output as given.
        out: PathBuf,
        /// The input it is the same file as.
        input: PathBuf,
    },
    /// The output lies in a protected directory (the data directory).
    #[error(
        "output {out} lies inside {dir}, shuan's data directory (the inventory, keyring \
         and audit ledger live there); choose a path outside it"
    )]
    InsideProtectedDir {
        /// The output as given.
        out: PathBuf,
        /// The protected directory.
        dir: PathBuf,
    },
    /// The output exists and replacing was not asked for.
    #[error("output {0} already exists; pass --force to replace it")]
    Exists(PathBuf),
    /// The output is a directory.
    #[error("output {0} is a directory; name a file inside it")]
    IsDirectory(PathBuf),
    /// The command was interrupted before the output was complete.
    #[error("interrupted: {0} was not written")]
    Interrupted(PathBuf),
    /// A file system operation failed (the OS error is the source, not repeated here).
    #[error("{action} {path}")]
    Io {
        /// What was being done ("creating", "renaming into place" …).
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        OutputError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
