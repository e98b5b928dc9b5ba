//! Scans a UTF-8 text file with `TextScanner` and prints one line per finding
//! (`type<TAB>start<TAB>end`, byte offsets in the file), like `rg -o` prints matches; a
//! per-type summary goes to stderr. Reads in 4 MiB blocks cut at a newline, so memory stays
//! bounded whatever the file size. Used by `bench/detect-vs-ripgrep.sh`.
//!
//! `cargo run --release -p shuan-detect --example scan_file -- FILE [--min-confidence X]
//! [--threads N] [--no-names] [--records]` (`--threads 1`: single-threaded; `--no-names`:
//! no person names in running text, to measure what they cost; `--records`: the file is
//! records separated by U+001E, each scanned as a text of its own, as a labelled set's
//! sentences are — read whole, for small files).

use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Write};

use shuan_detect::TextScanner;

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
    let mut file = std::fs::File::open(path)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut buf: Vec<u8> = Vec::with_capacity(4 << 20);
    let mut block = vec![0u8; 4 << 20];
    let mut base = 0usize;
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut eof = false;
    while !eof || !buf.is_empty() {
        if !eof {
            let n = file.read(&mut block)?;
            if n == 0 {
                eof = true;
            } else {
                buf.extend_from_slice(&block[..n]);
            }
        }
        // Scan up to the last newline (everything at EOF).
        let cut = if eof {
            buf.len()
        } else {
            buf.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1)
        };
        if cut == 0 && !eof {
            if buf.len() > (64 << 20) {
                eprintln!("{path}: line longer than 64 MiB at byte {base}; scanning it in pieces");
            } else {
                continue;
            }
        }
        let cut = if cut == 0 { buf.len() } else { cut };
        let text = match std::str::from_utf8(&buf[..cut]) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: invalid UTF-8 at byte {}", base + e.valid_up_to());
                std::process::exit(1);
            }
        };
        scanner.scan_into(text, &mut findings);
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
        base += cut;
        buf.drain(..cut);
    }
    out.flush()?;
    for (t, n) in counts {
        eprintln!("{t:<20} {n}");
    }
    Ok(())
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
