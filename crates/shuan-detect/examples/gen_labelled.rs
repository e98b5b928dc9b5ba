//! Writes the labelled evaluation corpus (the generator `tests/eval.rs` uses) as TSV for
//! tools outside Rust: `text<TAB>labels`, labels `type:start:end` joined by `;` with UTF-8
//! byte offsets; `\n`, `\t` and `\` in the text are written `\n`, `\t`, `\\`. Used by
//! `bench/detect-vs-jionlp.sh`.
//!
//! `cargo run --release -p shuan-detect --example gen_labelled -- OUT [PER_TYPE] [SEED]`

#[path = "../tests/support/corpus.rs"]
mod corpus;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: gen_labelled OUT [PER_TYPE] [SEED]");
        std::process::exit(2);
    };
    let per_type: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(300);
    let seed: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5348_5541_4E21);
    let mut w = BufWriter::new(std::fs::File::create(&out)?);
    for line in corpus::corpus(seed, per_type) {
        let text = line
            .text
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\t', "\\t");
        let labels: Vec<String> = line
            .labels
            .iter()
            .map(|(t, s, e)| format!("{}:{s}:{e}", t.id()))
            .collect();
        writeln!(w, "{text}\t{}", labels.join(";"))?;
    }
    w.flush()
}
