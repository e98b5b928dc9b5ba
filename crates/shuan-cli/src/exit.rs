//! Exit codes, one meaning each, the same for every command (docs/GUIDE.md lists them):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | failed: an input could not be read, an output not written, an action refused |
//! | 2 | usage: the command line is wrong (clap's own errors use 2 as well) |
//! | 3 | checked and found invalid: a ledger, proof or signature check ran and the thing checked is not valid; `watermark detect` found no recipient's watermark |
//! | 130, 143, 129 | interrupted by SIGINT, SIGTERM, SIGHUP (128 + signal); temporaries removed, the interruption recorded |

/// Failed.
pub const FAILED: u8 = 1;
/// Usage error.
pub const USAGE: u8 = 2;
/// Verified and found invalid.
pub const INVALID: u8 = 3;

/// Whether `err` comes from writing to a reader that went away (`shuan detect x | head`):
/// not a failure, the command stops quietly as other filters do.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
