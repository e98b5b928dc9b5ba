//! Scans a UTF-8 text file with `TextScanner` and prints one line per finding
//! (`type<TAB>start<TAB>end`, byte offsets in the file), like `rg -o` prints matches; a
//! per-type summary goes to stderr. A reader thread reads 4 MiB blocks cut at a newline
//! while the previous block is scanned (`TextScanner::scan_utf8_into`: UTF-8 checked with
//! SIMD, then scanned on every core) and a writer thread prints the findings of the block
//! before, so memory stays bounded whatever the file size.
//! Used by `bench/detect-vs-ripgrep.sh`.
//!
//! `cargo run --release -p shuan-detect --example scan_file -- FILE [--min-confidence X]
//! [--threads N] [--no-names] [--records]` (`--threads 1`: single-threaded; `--no-names`:
//! no person names in running text, to measure what they cost; `--records`: the file is
//! records separated by U+001E, each scanned as a text of its own, as a labelled set's
//! sentences are — read whole, for small files).

use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Write};

use shuan_detect::{Finding, TextScanner};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!(
            "usage: scan_file FILE [--min-confidence X] [--threads N] [--no-names] [--records]"
        );
        std::process::exit(2);
    };
    let min: f32 = args
        .iter()
        .position(|a| a == "--min-confidence")
        .and_then(|p| args.get(p + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(shuan_detect::REPORT_CONFIDENCE);
    let threads: usize = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|p| args.get(p + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let names = !args.iter().any(|a| a == "--no-names");
    let scanner = TextScanner::new()
        .with_min_confidence(min)
        .with_threads(threads)
        .with_person_names(names);
    if args.iter().any(|a| a == "--records") {
        return scan_records(path, &scanner);
    }
    let file = std::fs::File::open(path)?;
    // Three stages overlap: a reader thread reads blocks, this thread scans them (with the
    // scanner's workers), a writer thread prints the findings of the block before.
    // Blocks and findings travel with their offset in the file: the reader hands a block
    // over when this thread takes it, one block of findings may wait for the writer.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(0);
    let reader = std::thread::spawn({
        let path = path.clone();
        move || read_blocks(file, &path, &tx)
    });
    let (out_tx, out_rx) = std::sync::mpsc::sync_channel::<(usize, Vec<Finding>)>(1);
    let writer = std::thread::spawn(move || write_findings(&out_rx));
    for (base, block) in rx {
        let mut findings = Vec::new();
        if let Err(e) = scanner.scan_utf8_into(&block, &mut findings) {
            eprintln!("{path}: invalid UTF-8 at byte {}", base + e.valid_up_to());
            std::process::exit(1);
        }
        drop(block);
        if out_tx.send((base, findings)).is_err() {
            break; // the writer stopped (its error is reported below)
        }
    }
    drop(out_tx);
    let counts = writer.join().expect("the writer thread does not panic")?;
    reader.join().expect("the reader thread does not panic")?;
    for (t, n) in counts {
        eprintln!("{t:<20} {n}");
    }
    Ok(())
}

/// Prints each block's findings (`type<TAB>start<TAB>end`) as they come; returns the
/// count per type.
fn write_findings(
    rx: &std::sync::mpsc::Receiver<(usize, Vec<Finding>)>,
) -> std::io::Result<BTreeMap<&'static str, u64>> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (base, findings) in rx {
        for f in &findings {
            *counts.entry(f.data_type.id()).or_default() += 1;
            writeln!(
                out,
                "{}\t{}\t{}",
                f.data_type.id(),
                base + f.start,
                base + f.end
            )?;
        }
    }
    out.flush()?;
    Ok(counts)
}

/// Block size: a block ends at the last newline of its first 4 MiB.
const BLOCK: usize = 4 << 20;

/// Reads `file` in blocks ending at a newline (a line longer than 64 MiB is cut) and sends
/// each with its offset; stops early when the receiver is gone.
fn read_blocks(
    file: std::fs::File,
    path: &str,
    tx: &std::sync::mpsc::SyncSender<(usize, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut file = file;
    let mut base = 0usize;
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut buf = Vec::with_capacity(BLOCK + (BLOCK >> 4));
        buf.append(&mut carry);
        let mut eof = false;
        let mut want = BLOCK;
        let cut = loop {
            while buf.len() < want {
                let room = (want - buf.len()) as u64;
                if (&mut file).take(room).read_to_end(&mut buf)? == 0 {
                    eof = true;
                    break;
                }
            }
            if eof {
                break buf.len();
            }
            if let Some(p) = memchr::memrchr(b'\n', &buf) {
                break p + 1;
            }
            if buf.len() >= 64 << 20 {
                eprintln!("{path}: line longer than 64 MiB at byte {base}; scanning it in pieces");
                // Cut before a character's continuation bytes.
                let mut c = buf.len();
                while c > 0 && buf[c - 1] & 0xC0 == 0x80 {
                    c -= 1;
                }
                break c.saturating_sub(1).max(1);
            }
            want += BLOCK;
        };
        carry = buf.split_off(cut);
        let n = buf.len();
        if n > 0 && tx.send((base, buf)).is_err() {
            return Ok(());
        }
        base += n;
        if eof && carry.is_empty() {
            return Ok(());
        }
    }
}

/// `--records`: each U+001E-separated record scanned on its own; offsets are the file's.
fn scan_records(path: &str, scanner: &TextScanner) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut findings = Vec::new();
    let mut at = 0;
    for record in text.split('\u{1e}') {
        scanner.scan_into(record, &mut findings);
        for f in &findings {
            writeln!(
                out,
                "{}\t{}\t{}",
                f.data_type.id(),
                at + f.start,
                at + f.end
            )?;
        }
        at += record.len() + '\u{1e}'.len_utf8();
    }
    out.flush()
}
