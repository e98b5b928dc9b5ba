//! Column classification throughput: classifies generated columns (every text type, half
//! of them neutrally named, 20% placeholders, plus free-text columns) and prints values/s
//! and MB/s. `cargo run --release -p shuan-detect --example classify_throughput [COLUMNS]`

#[path = "../tests/support/corpus.rs"]
mod corpus;

use shuan_detect::ColumnClassifier;

fn main() {
    let columns: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut rng = corpus::Rng::new(11);
    let mut data: Vec<(String, Vec<String>)> = Vec::with_capacity(columns);
    for c in 0..columns {
        let idx = c % (corpus::TEXT_TYPES.len() + 1);
        let (name, values) = if idx == corpus::TEXT_TYPES.len() {
            let vals = (0..1000)
                .map(|_| corpus::negative_line(&mut rng).text)
                .collect();
            ("remark".to_string(), vals)
        } else {
            let (t, gen, _) = corpus::TEXT_TYPES[idx];
            let vals = (0..1000)
                .map(|_| {
                    if rng.chance(0.2) {
                        "无".to_string()
                    } else {
                        gen(&mut rng)
                    }
                })
                .collect();
            let name = if c % 2 == 0 {
                format!("col_{c}")
            } else {
                t.id().to_string()
            };
            (name, vals)
        };
        data.push((name, values));
    }
    let bytes: usize = data
        .iter()
        .flat_map(|(_, v)| v.iter())
        .map(String::len)
        .sum();
    let values: usize = data.iter().map(|(_, v)| v.len()).sum();
    let classifier = ColumnClassifier::new();
    let mut best = f64::MAX;
    let mut typed = 0;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        typed = 0;
        for (name, vals) in &data {
            let v = classifier.classify(name, vals.iter().map(String::as_str));
            typed += usize::from(v.data_type.is_some());
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{columns} columns, {values} values, {:.1} MB: best of 3 {:.3} s = {:.2} M values/s, {:.1} MB/s ({typed} columns typed)",
        bytes as f64 / 1e6,
        best,
        values as f64 / best / 1e6,
        bytes as f64 / 1e6 / best
    );
}
