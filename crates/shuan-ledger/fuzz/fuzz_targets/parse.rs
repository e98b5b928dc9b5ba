//! Arbitrary text as an event, a record, a proof and a time: never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shuan_ledger::Record::from_canonical(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = shuan_ledger::Timestamp::parse(s);
        if let Ok(e) = serde_json::from_str::<shuan_ledger::Event>(s) {
            let _ = e.prepare();
        }
        let _ = serde_json::from_str::<shuan_ledger::Proof>(s);
    }
});
