//! Data sharing (数据共享) rules for shuan, without HTTP or storage: what the resource
//! catalogue says by default and who may change it, how a share request is routed and
//! checked, when its answer is due in working days, when an agreement is in force, and
//! what a call of a data service may ask.
//!
//! Owns: the 共享属性 / 开放属性 defaults per grading level ([`catalogue`]), the
//! stricter-only rule for stewards and the never-无条件开放 rule for important data;
//! request routing by 共享属性 and level and the platform's conformity check
//! ([`routing`]); the work calendar with holidays and 调休 make-up days as data
//! ([`calendar`]); agreement periods `[valid_from, valid_until)` to the second, status and
//! limits ([`agreement`]); the data-service parameter model — declared parameters only,
//! typed, ranged, patterned with linear-time regexes, a selective predicate required on
//! personal data, row caps that fail instead of truncating ([`service`]).
//! Must not: read sources, store records, authorize callers (the server's Cedar policies
//! do) or mask values (`shuan-mask` does); every function takes the time it decides for
//! (`now`), so tests inject the clock.
//!
//! The regulations behind each rule are cited by id (R-16, R-17, R-20 … R-23, see
//! `shared/regulations/README.md`) and by the national 政务数据共享条例 (国务院令第809号)
//! and 国发〔2016〕51号.

pub mod agreement;
pub mod calendar;
pub mod catalogue;
pub mod routing;
pub mod service;

pub use agreement::{Standing, Terms};
pub use calendar::WorkCalendar;
pub use catalogue::{Attributes, Openness};
pub use routing::{Route, Step};
pub use service::{CompiledService, ParamSpec, ParamType, ServiceSpec};

/// A refusal with a stable code (for the API) and a message for people (Chinese first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// Stable code, e.g. `undeclared_parameter`.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl Refusal {
    /// A refusal.
    pub fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// Unix seconds, UTC.
pub type UnixTime = i64;
