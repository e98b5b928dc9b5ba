//! The discovery pipeline (source → detect → classify) lives in `shuan-discover`, shared
//! with masking; this module keeps the name `scan` and `demo` use.

pub use shuan_discover::*;
