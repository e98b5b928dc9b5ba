//! Fuzzes the text scanner and redaction: no panic, and every span is an ordered,
//! non-overlapping char range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shuan_detect::{redact, TextScanner};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let scanner = TextScanner::new();
    let found = scanner.scan(&text);
    let mut last = 0;
    for f in &found {
        assert!(f.start >= last && f.start < f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        last = f.end;
    }
    let _ = redact(&text, &found);
});
