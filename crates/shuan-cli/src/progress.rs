//! The scan progress bar on stderr: bytes for file tables, tables for databases. Hidden
//! when stderr is not a terminal, so pipes and logs stay clean.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shuan_discover::ScanObserver;
use shuan_source::TableRef;

/// A progress bar shared with the readers' callbacks.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    bytes_mode: Arc<AtomicBool>,
}

impl Progress {
    /// A bar drawn on stderr if it is a terminal and `enabled`.
    pub fn new(enabled: bool) -> Self {
        let target = if enabled && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        Progress {
            bar,
            bytes_mode: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts a source: sizes the bar from its tables.
    pub fn start_source(&self, name: &str, tables: &[TableRef]) {
        let bytes: u64 = tables.iter().filter_map(|t| t.size_bytes).sum();
        self.bar.reset();
        self.bar.set_position(0);
        if bytes > 0 {
            self.bytes_mode.store(true, Ordering::Relaxed);
            self.bar.set_length(bytes);
            self.bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
                )
                .expect("valid template"),
            );
        } else {
            self.bytes_mode.store(false, Ordering::Relaxed);
            self.bar.set_length(tables.len() as u64);
            self.bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} 表 {msg}",
                )
                .expect("valid template"),
            );
        }
        self.bar.set_message(name.to_string());
    }

    /// One table done.
    pub fn table_done(&self, table: &str) {
        if !self.bytes_mode.load(Ordering::Relaxed) {
            self.bar.inc(1);
        }
        self.bar.set_message(table.to_string());
    }

    /// Prints a line above the bar (or plainly when hidden).
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ScanObserver for Progress {
    fn bytes_read(&self, n: u64) {
        if self.bytes_mode.load(Ordering::Relaxed) {
            self.bar.inc(n);
        }
    }
    fn source_started(&self, _index: usize, name: &str, tables: &[TableRef]) {
        self.start_source(name, tables);
    }
    fn table_done(&self, table: &str) {
        Progress::table_done(self, table);
    }
    fn message(&self, line: &str) {
        self.println(line);
    }
}
