//! In-process scan speed on one file, best of N passes (steadier than process timings on a
//! busy machine): every type on one thread, without person names on one thread, and every
//! type on all cores. The file is read once and scanned in 4 MiB pieces cut at line
//! breaks, as `scan_file` and `shuan detect` scan. The one-thread rows also give the
//! thread's own CPU time (Linux: `/proc/thread-self/schedstat`, nanoseconds on a CPU), which
//! other processes on a shared machine disturb far less than wall time; the variants run in
//! alternation, pass by pass, so that a change in load touches them alike.
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
    let mut best = [(f64::MAX, f64::MAX); 3];
    let mut counts = [0usize; 3];
    for _ in 0..passes {
        for (k, (_, scanner)) in variants.iter().enumerate() {
            let (t, c) = (Instant::now(), thread_cpu());
            let mut count = 0;
            for p in &pieces {
                scanner.scan_into(p, &mut findings);
                count += findings.len();
            }
            let wall = t.elapsed().as_secs_f64();
            let cpu = match (c, thread_cpu()) {
                (Some(a), Some(b)) => b - a,
                _ => f64::NAN,
            };
            best[k].0 = best[k].0.min(wall);
            best[k].1 = best[k].1.min(cpu);
            counts[k] = count;
        }
    }
    for (k, (label, _)) in variants.iter().enumerate() {
        let (wall, cpu) = best[k];
        let cpu = if k < 2 {
            format!("cpu {cpu:>6.3} s {:>7.1} MB/s", mb / cpu)
        } else {
            String::new()
        };
        println!(
            "{label:<32} {wall:>7.3} s {:>8.1} MB/s   {cpu} {:>9} findings",
            mb / wall,
            counts[k]
        );
    }
    let (with, without) = (best[0].1, best[1].1);
    if with.is_finite() && without.is_finite() {
        println!(
            "person names: {:.0}% of the one-thread CPU time",
            100.0 * (with - without) / with
        );
    }
}

/// Seconds the calling thread has spent on a CPU (Linux), `None` elsewhere.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}
