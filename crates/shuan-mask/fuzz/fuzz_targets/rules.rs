//! Rule files from untrusted text: must return an error, never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = shuan_mask::rules::RuleSet::check_file("fuzz.toml", text, &|_| true);
    }
});
