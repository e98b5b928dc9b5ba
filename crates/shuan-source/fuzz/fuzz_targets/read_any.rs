//! Any bytes under any supported extension: open, list, sample and stream must return
//! errors, never panic, and every row must be as wide as the columns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shuan_source::{open, SourceOptions};

const EXTENSIONS: [&str; 7] = ["csv", "tsv", "json", "jsonl", "xlsx", "parquet", "db"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let ext = EXTENSIONS[selector as usize % EXTENSIONS.len()];
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("input.{ext}"));
    std::fs::write(&path, bytes).expect("write input");
    let options = SourceOptions {
        max_record_bytes: Some(4096),
        ..SourceOptions::default()
    };
    let Ok(mut source) = open(path.to_str().expect("utf-8 temp path"), &options) else {
        return;
    };
    let Ok(tables) = source.tables() else {
        return;
    };
    for table in tables {
        let _ = source.sample_table(&table, 3);
        if let Ok(mut reader) = source.open_table(&table) {
            let width = reader.columns().len();
            while let Some(row) = reader.next_row() {
                if let Ok(row) = row {
                    assert_eq!(row.len(), width);
                }
            }
        }
    }
});
