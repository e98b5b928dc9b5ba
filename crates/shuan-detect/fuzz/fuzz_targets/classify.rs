//! Fuzzes the column classifier: the first line is the column name, the others values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shuan_detect::ColumnClassifier;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let name = lines.next().unwrap_or("");
    let v = ColumnClassifier::new().classify(name, lines);
    assert!(v.values_matched <= v.values_seen);
    assert!((0.0..=1.0).contains(&v.confidence));
});
