//! Arbitrary bytes as a segment file: reading must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = shuan_ledger::segment::SegmentReader::new(data) {
        let mut body = Vec::new();
        let mut prev = r.header.prev_hash;
        while let Ok(Some(pos)) = r.next_entry(&mut body) {
            let h = shuan_ledger::merkle::leaf_hash(&prev, &body);
            let _ = h == pos.stored_hash;
            let _ = shuan_ledger::Record::from_canonical(&body);
            prev = pos.stored_hash;
        }
    }
});
