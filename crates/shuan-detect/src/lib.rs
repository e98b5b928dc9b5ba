//! Sensitive-data detectors and validators (敏感数据识别) for shuan.
//!
//! Owns: the catalogue of data types (stable snake_case ids, Chinese labels), validators
//! for Chinese identifiers (GB 11643, GB 32100, GB 11714, Luhn, ISO 3779 …), text scanning
//! with UTF-8 byte spans, column classification from names plus value samples, and the
//! masked forms used by `shuan redact`.
//! Must not: read files or databases (that is `shuan-source`), decide grades (that is
//! `shuan-classify`), or allocate per byte scanned on the hot path.
//!
//! ```
//! use shuan_detect::{DataType, TextScanner, redact};
//! let scanner = TextScanner::new();
//! let text = "联系人：张三，电话13800138000。";
//! let found = scanner.scan(text);
//! assert!(found.iter().any(|f| f.data_type == DataType::CnMobile && &text[f.start..f.end] == "13800138000"));
//! assert_eq!(redact(text, &found), "联系人：张*，电话138****8000。");
//! ```

// Every public item is documented (DEVELOPERS.md); clippy -D warnings keeps it so.
#![warn(missing_docs)]

mod address;
mod charset;
mod column;
mod lexicon;
mod names;
mod redact;
mod scan;
mod types;
pub mod validate;

pub use column::{ColumnClassifier, ColumnVerdict};
pub use redact::{mask_value, redact};
pub use scan::{Finding, TextScanner, REPORT_CONFIDENCE};
pub use types::DataType;
