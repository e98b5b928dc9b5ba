//! Writes a benchmark corpus of about N megabytes (default 100) to a file: the labelled
//! evaluation sentences (positives and look-alike negatives) diluted with plain prose.
//!
//! `cargo run --release -p shuan-detect --example gen_corpus -- OUT [MB] [SEED]`

#[path = "../tests/support/corpus.rs"]
mod corpus;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: gen_corpus OUT [MB] [SEED]");
        std::process::exit(2);
    };
    let mb: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(7);
    let target = mb * 1_000_000;
    let mut rng = corpus::Rng::new(seed);
    let mut w = BufWriter::new(std::fs::File::create(&out)?);
    let mut written = 0u64;
    let mut positives = 0u64;
    while written < target {
        // Two lines of prose, a sentence with a value, prose, a look-alike.
        let mut line = String::new();
        for _ in 0..2 {
            line.push_str(rng.pick(corpus::FILLER));
            line.push('\n');
        }
        let idx = rng.below(corpus::TEXT_TYPES.len() as u64) as usize;
        let p = corpus::positive_line(&mut rng, idx);
        positives += p.labels.len() as u64;
        line.push_str(&p.text);
        line.push('\n');
        line.push_str(rng.pick(corpus::FILLER));
        line.push_str(&corpus::negative_line(&mut rng).text);
        line.push('\n');
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    w.flush()?;
    eprintln!("wrote {written} bytes with {positives} labelled values to {out}");
    Ok(())
}
