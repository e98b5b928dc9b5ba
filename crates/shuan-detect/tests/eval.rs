//! Precision and recall per type on the generated, labelled evaluation corpus (fixed seed;
//! look-alike negatives included). Fails if any type's precision or recall is below 1.000,
//! the figure docs/detectors.md states; the first 30 misses and false findings are printed.
//!
//! `SHUAN_EVAL_PER_TYPE` sets the positives per type (default 300) for a longer soak.

mod support;

use std::collections::BTreeMap;

use shuan_detect::{DataType, TextScanner, REPORT_CONFIDENCE};
use support::corpus;

#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

#[test]
fn precision_and_recall_per_type() {
    let per_type = std::env::var("SHUAN_EVAL_PER_TYPE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let scanner = TextScanner::new();
    let lines = corpus::corpus(0x5348_5541_4E21, per_type);
    let mut counts: BTreeMap<DataType, Counts> = BTreeMap::new();
    let mut examples: Vec<String> = Vec::new();
    for line in &lines {
        let found: Vec<_> = scanner
            .scan(&line.text)
            .into_iter()
            .filter(|f| f.confidence >= REPORT_CONFIDENCE)
            .collect();
        for f in &found {
            let hit = line
                .labels
                .iter()
                .any(|&(t, s, e)| t == f.data_type && s == f.start && e == f.end);
            let c = counts.entry(f.data_type).or_default();
            if hit {
                c.tp += 1;
            } else {
                c.fp += 1;
                if examples.len() < 30 {
                    examples.push(format!(
                        "FP {:?} {:?} in {:?}",
                        f.data_type,
                        &line.text[f.start..f.end],
                        line.text
                    ));
                }
            }
        }
        for &(t, s, e) in &line.labels {
            if !found
                .iter()
                .any(|f| f.data_type == t && f.start == s && f.end == e)
            {
                counts.entry(t).or_default().fn_ += 1;
                if examples.len() < 30 {
                    examples.push(format!(
                        "FN {t:?} {:?} in {:?}",
                        &line.text[s..e],
                        line.text
                    ));
                }
            }
        }
    }
    println!(
        "{:<20} {:>6} {:>6} {:>6} {:>9} {:>7}",
        "type", "tp", "fp", "fn", "precision", "recall"
    );
    let mut failures = Vec::new();
    for (t, c) in &counts {
        let p = if c.tp + c.fp == 0 {
            1.0
        } else {
            c.tp as f64 / (c.tp + c.fp) as f64
        };
        let r = if c.tp + c.fn_ == 0 {
            1.0
        } else {
            c.tp as f64 / (c.tp + c.fn_) as f64
        };
        println!(
            "{:<20} {:>6} {:>6} {:>6} {:>9.4} {:>7.4}",
            t.id(),
            c.tp,
            c.fp,
            c.fn_,
            p,
            r
        );
        if c.fp > 0 || c.fn_ > 0 {
            failures.push(format!("{}: precision {p:.3}, recall {r:.3}", t.id()));
        }
    }
    for e in &examples {
        println!("{e}");
    }
    // Every text type must have been evaluated.
    for (t, _, _) in corpus::TEXT_TYPES {
        assert!(
            counts.get(t).is_some_and(|c| c.tp > 0),
            "{} never detected",
            t.id()
        );
    }
    assert!(failures.is_empty(), "below 1.000: {failures:?}");
}
