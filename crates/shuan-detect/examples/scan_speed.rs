//! In-process scan speed on one file, best of N passes (steadier than process timings on a
//! busy machine): every type on one thread, without person names on one thread, and every
//! type on all cores. The file is read once and scanned in 4 MiB pieces cut at line
//! breaks, as `scan_file` and `shuan detect` scan.
//!
//! `cargo run --release -p shuan-detect --example scan_speed -- FILE [PASSES]`

use std::time::Instant;

use shuan_detect::TextScanner;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: scan_speed FILE [PASSES]");
        std::process::exit(2);
    };
    let passes: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    // 4 MiB pieces ending at a line break.
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + (4 << 20)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if end < text.len() {
            if let Some(p) = text[start..end].rfind('\n') {
                end = start + p + 1;
            }
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    let mb = text.len() as f64 / 1e6;
    let variants = [
        ("every type, 1 thread", TextScanner::new().with_threads(1)),
        (
            "without person names, 1 thread",
            TextScanner::new().with_threads(1).with_person_names(false),
        ),
        ("every type, all cores", TextScanner::new()),
    ];
    let mut findings = Vec::new();
    for (label, scanner) in &variants {
        let mut best = f64::MAX;
        let mut count = 0;
        for _ in 0..passes {
            let t = Instant::now();
            count = 0;
            for p in &pieces {
                scanner.scan_into(p, &mut findings);
                count += findings.len();
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{label:<32} {best:>7.3} s {:>8.1} MB/s {count:>9} findings",
            mb / best
        );
    }
}
