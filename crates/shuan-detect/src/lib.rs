//! Sensitive-data detectors and validators (敏感数据识别) for shuan.
//!
//! Owns: the catalogue of data types (stable snake_case ids, Chinese labels), validators
//! for Chinese identifiers (GB 11643, GB 32100, GB 11714, Luhn, ISO 3779 …), text scanning
//! with UTF-8 byte spans, and column classification from names plus value samples.
//! Must not: read files or databases (that is `shuan-source`), decide grades (that is
//! `shuan-classify`), or allocate per byte scanned on the hot path.
