//! Fuzzes the API's request parsing: any method, path, headers and body sent to the real
//! router (SQLite store, real ledger in a temporary directory) must answer with a status
//! below 500 and never panic.
//!
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run api_request`
//! (scripts/fuzz.sh). The same harness runs on random inputs in CI as the
//! `request_fuzz` test of shuan-server.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shuan_server::fuzzing::check_one(data);
});
