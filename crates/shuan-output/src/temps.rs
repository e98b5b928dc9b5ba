//! The process-wide registry of live temporaries.
//!
//! Every temporary a command creates is registered here while it lives. Three things
//! remove it: its [`TempPath`] being dropped (errors and early returns), the interrupt
//! handler (SIGINT, SIGTERM, SIGHUP: registered temporaries are deleted before the
//! process exits), and — for SIGKILL or a power cut, where no code runs — the next
//! start's [`sweep_journal_dir`], which reads the journal a dead process left and deletes
//! what it lists.
//!
//! The journal is one append-only file per process, `<pid>-<start time>.temps`, with a
//! `+path` line when a temporary is created and a `-path` line when it is gone; the
//! process start time tells a dead process from a new one that reused its pid.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::OutputError;

/// The start of every temporary's file name.
pub const TEMP_PREFIX: &str = ".shuan-tmp-";

#[derive(Default)]
struct Registry {
    live: BTreeSet<PathBuf>,
    /// Directories where other code (tempfile users) creates temporaries named with
    /// [`temp_prefix`]: swept by name on interrupt and after a crash.
    watched: BTreeSet<PathBuf>,
    interrupted: bool,
    journal_dir: Option<PathBuf>,
    journal: Option<File>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        // A panic while holding the lock leaves a consistent set (each operation is one
        // insert or remove), so keep using it.
        .unwrap_or_else(|p| p.into_inner())
}

impl Registry {
    fn journal_line(&mut self, sign: char, path: &Path) {
        let Some(dir) = self.journal_dir.clone() else {
            return;
        };
        if self.journal.is_none() {
            let name = format!("{}-{}.temps", std::process::id(), own_start_time());
            let _ = std::fs::create_dir_all(&dir);
            self.journal = OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(name))
                .ok();
        }
        if let Some(f) = self.journal.as_mut() {
            // One write per line, so a crash tears at most the last line; the sweep
            // ignores a torn line. Not fsynced: losing a line to a power cut leaves a
            // `.shuan-tmp-` file behind, never deletes a wrong one.
            let _ = f.write_all(format!("{sign}{}\n", path.display()).as_bytes());
        }
        if self.live.is_empty() && self.watched.is_empty() {
            self.close_journal();
        }
    }

    /// Nothing left to clean up: the journal is no longer needed.
    fn close_journal(&mut self) {
        self.journal = None;
        if let Some(dir) = &self.journal_dir {
            let name = format!("{}-{}.temps", std::process::id(), own_start_time());
            let _ = std::fs::remove_file(dir.join(name));
        }
    }

    fn add(&mut self, path: &Path) -> Result<(), OutputError> {
        if self.interrupted {
            return Err(OutputError::Interrupted(path.to_path_buf()));
        }
        self.live.insert(path.to_path_buf());
        self.journal_line('+', path);
        Ok(())
    }

    fn forget(&mut self, path: &Path) {
        if self.live.remove(path) {
            self.journal_line('-', path);
        }
    }
}

/// Keeps a journal of live temporaries in `dir` (created when the first temporary is),
/// so that a later [`sweep_journal_dir`] can remove what this process leaves if it is
/// killed.
pub fn set_journal_dir(dir: &Path) {
    let mut reg = registry();
    reg.journal_dir = Some(dir.to_path_buf());
    reg.journal = None;
    let live: Vec<PathBuf> = reg.live.iter().cloned().collect();
    for p in live {
        reg.journal_line('+', &p);
    }
}

/// The start of the name of every temporary this process creates: [`TEMP_PREFIX`], the
/// pid and a dash. Code that creates temporaries by other means (the `tempfile` crate)
/// names them with it and calls [`watch_dir`] for their directory.
pub fn temp_prefix() -> String {
    format!("{TEMP_PREFIX}{}-", std::process::id())
}

/// Declares that temporaries named with [`temp_prefix`] may be created in `dir`: the
/// interrupt handler removes them, and so does the next start's sweep if this process is
/// killed.
pub fn watch_dir(dir: &Path) {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut reg = registry();
    if reg.watched.insert(dir.clone()) {
        reg.journal_line('*', &dir);
    }
}

/// The process is ending normally: every temporary was removed by its owner, so the
/// journal is no longer needed (kept if a registered temporary is somehow still live, for
/// the next start's sweep).
pub fn end_of_process() {
    let mut reg = registry();
    if reg.live.is_empty() {
        reg.close_journal();
    }
}

/// Removes the entries of `dir` whose name starts with `prefix`; returns them.
fn remove_prefixed(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(prefix))
        {
            remove_any(&entry.path());
            removed.push(entry.path());
        }
    }
    removed
}

/// Whether an interrupt signal has arrived; long loops may check it to stop early.
pub fn is_interrupted() -> bool {
    registry().interrupted
}

/// A registered temporary file or directory: deleted when dropped, unless persisted.
#[derive(Debug)]
pub struct TempPath {
    path: PathBuf,
}

impl TempPath {
    /// Creates a new empty temporary file in `dir`, mode 0600, named
    /// `.shuan-tmp-<pid>-<n>-<hint>`.
    pub fn create_in(dir: &Path, hint: &str) -> Result<(TempPath, File), OutputError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let hint: String = hint
            .chars()
            .filter(|c| !std::path::is_separator(*c))
            .take(40)
            .collect();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{TEMP_PREFIX}{}-{n}-{hint}", std::process::id()));
            // Registered before it exists, so an interrupt between create and register
            // cannot leave it behind.
            let mut reg = registry();
            reg.add(&path)?;
            let mut opts = OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(&path) {
                Ok(f) => return Ok((TempPath { path }, f)),
                Err(e) => {
                    reg.forget(&path);
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        return Err(OutputError::io("creating a temporary file in", dir, e));
                    }
                }
            }
        }
    }

    /// Registers a path some other code creates (a file or a directory); its file name
    /// must start with [`TEMP_PREFIX`]. Register before creating it.
    pub fn adopt(path: PathBuf) -> Result<TempPath, OutputError> {
        debug_assert!(path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(TEMP_PREFIX)));
        registry().add(&path)?;
        Ok(TempPath { path })
    }

    /// Where the temporary is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the temporary to `target` and unregisters it. With `replace` false an
    /// existing `target` is never replaced, even one created since it was checked.
    /// Refused once an interrupt has arrived (the handler deletes the temporary).
    pub fn persist(self, target: &Path, replace: bool) -> Result<(), OutputError> {
        let mut reg = registry();
        if reg.interrupted {
            return Err(OutputError::Interrupted(target.to_path_buf()));
        }
        let moved = if replace {
            std::fs::rename(&self.path, target)
        } else {
            // A hard link fails if the target exists; rename would replace it.
            std::fs::hard_link(&self.path, target).and_then(|()| std::fs::remove_file(&self.path))
        };
        match moved {
            Ok(()) => {
                reg.forget(&self.path);
                drop(reg);
                std::mem::forget(self);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(OutputError::Exists(target.to_path_buf()))
            }
            Err(e) => Err(OutputError::io("moving into place", target, e)),
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        remove_any(&self.path);
        registry().forget(&self.path);
    }
}

fn remove_any(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Deletes every registered temporary and refuses new ones and every persist from now
/// on. Returns how many were deleted.
fn interrupt_now() -> usize {
    let mut reg = registry();
    reg.interrupted = true;
    let live: Vec<PathBuf> = std::mem::take(&mut reg.live).into_iter().collect();
    for p in &live {
        remove_any(p);
    }
    let prefix = temp_prefix();
    for dir in &reg.watched {
        remove_prefixed(dir, &prefix);
    }
    reg.close_journal();
    live.len()
}

static PROGRAM_HANDLES_INTERRUPTS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// From now on SIGINT/SIGTERM/SIGHUP are left to the program's own handler (a server's
/// graceful shutdown) instead of ending the process at once. Temporaries still go when
/// their owners drop them; a program that calls this must not leave any behind.
pub fn let_program_handle_interrupts() {
    PROGRAM_HANDLES_INTERRUPTS.store(true, std::sync::atomic::Ordering::Release);
}

/// Handles SIGINT, SIGTERM and SIGHUP for the rest of the process: deletes every
/// registered temporary, then calls `on_interrupt` with the signal's name (the CLI
/// records the interrupted action in the audit ledger there), then exits with 128 + the
/// signal number.
pub fn install_interrupt_handler<F>(on_interrupt: F) -> io::Result<()>
where
    F: Fn(&'static str) + Send + 'static,
{
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("shuan-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if PROGRAM_HANDLES_INTERRUPTS.load(std::sync::atomic::Ordering::Acquire) {
                    // A long-running service (`shuan serve`) shuts down gracefully on its
                    // own signal handler; this thread must not exit under it.
                    continue;
                }
                interrupt_now();
                let name = match sig {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                on_interrupt(name);
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

/// Removes the temporaries listed in the journals of processes that are gone (killed
/// without a chance to clean up), and those journals. Returns the paths removed.
pub fn sweep_journal_dir(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(".temps") else {
            continue;
        };
        let Some((pid, start)) = stem.split_once('-') else {
            continue;
        };
        let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
            continue;
        };
        if process_alive(pid, start) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for dir in watched_in_journal(&text) {
            removed.extend(remove_prefixed(&dir, &format!("{TEMP_PREFIX}{pid}-")));
        }
        for path in live_in_journal(&text) {
            let ours = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(TEMP_PREFIX));
            if ours && std::fs::symlink_metadata(&path).is_ok() {
                remove_any(&path);
                removed.push(path);
            }
        }
        let _ = std::fs::remove_file(entry.path());
    }
    removed
}

/// The watched directories, from complete lines only.
fn watched_in_journal(text: &str) -> BTreeSet<PathBuf> {
    let complete = match text.rfind('\n') {
        Some(i) => &text[..i],
        None => "",
    };
    complete
        .lines()
        .filter_map(|l| l.strip_prefix('*'))
        .map(PathBuf::from)
        .collect()
}

/// The paths added and not removed, from complete lines only.
fn live_in_journal(text: &str) -> BTreeSet<PathBuf> {
    let mut live = BTreeSet::new();
    let complete = match text.rfind('\n') {
        Some(i) => &text[..i],
        None => "",
    };
    for line in complete.lines() {
        if let Some(p) = line.strip_prefix('+') {
            live.insert(PathBuf::from(p));
        } else if let Some(p) = line.strip_prefix('-') {
            live.remove(Path::new(p));
        }
    }
    live
}

/// The process's start time in clock ticks since boot (Linux), 0 elsewhere.
fn own_start_time() -> u64 {
    start_time(std::process::id()).unwrap_or(0)
}

fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields are counted
    // after its closing parenthesis; the start time is field 22.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn process_alive(pid: u32, recorded_start: u64) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        // No way to tell here: never delete another process's files.
        return true;
    }
    match start_time(pid) {
        Some(t) => t == recorded_start,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lists_only_live_complete_lines() {
        let live = live_in_journal("+/a/x\n+/a/y\n-/a/x\n+/a/torn");
        assert_eq!(
            live.into_iter().collect::<Vec<_>>(),
            vec![PathBuf::from("/a/y")]
        );
        assert!(live_in_journal("+/a/torn").is_empty());
    }

    #[test]
    fn own_process_is_alive_and_a_reused_pid_is_not() {
        let me = std::process::id();
        let t = own_start_time();
        assert!(process_alive(me, t));
        assert!(!process_alive(me, t + 1));
    }
}
