//! Share agreements (共享协议, R-21): the terms the final approval writes, and whether an
//! agreement lets a call through at a given second.
//!
//! An agreement is in force on `[valid_from, valid_until)`: at `valid_until - 1` a call
//! passes, at `valid_until` it does not (Apache Ranger shipped validity periods it did not
//! enforce; here every call is checked against the clock it is decided at). A suspended or
//! revoked agreement lets nothing through; only the recipient department uses it (no
//! onward transfer, R-20); rate and volume are limited per agreement.

use serde::{Deserialize, Serialize};

use crate::{Refusal, UnixTime};

/// Calls per minute of a new agreement unless configured.
pub const DEFAULT_RATE_PER_MINUTE: i64 = 120;
/// Rows per day of a new agreement unless configured.
pub const DEFAULT_ROWS_PER_DAY: i64 = 100_000;

/// What the final approval writes into the agreement besides the request's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// 共享方式.
    pub method: String,
    /// In force from (inclusive).
    pub valid_from: UnixTime,
    /// Until (exclusive).
    pub valid_until: UnixTime,
    /// Calls per minute.
    pub rate_per_minute: i64,
    /// Rows per day.
    pub rows_per_day: i64,
}

/// The terms of an agreement approved at `now` for `valid_days` days.
pub fn terms(now: UnixTime, valid_days: i64) -> Terms {
    Terms {
        method: "interface".into(),
        valid_from: now,
        valid_until: now.saturating_add(valid_days.max(1).saturating_mul(86_400)),
        rate_per_minute: DEFAULT_RATE_PER_MINUTE,
        rows_per_day: DEFAULT_ROWS_PER_DAY,
    }
}

/// Where an agreement stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Calls pass (as far as the agreement goes).
    InForce,
    /// Before `valid_from`.
    NotYet,
    /// At or after `valid_until`.
    Expired,
    /// Held by the provider.
    Suspended,
    /// Ended for good.
    Revoked,
}

/// The standing of an agreement with status `status` (`active`, `suspended`, `revoked`)
/// and period `[valid_from, valid_until)` at `now`. Revocation and suspension come first:
/// a revoked agreement is revoked, whatever its period.
pub fn standing(
    status: &str,
    valid_from: UnixTime,
    valid_until: UnixTime,
    now: UnixTime,
) -> Standing {
    match status {
        "revoked" => Standing::Revoked,
        "suspended" => Standing::Suspended,
        "active" if now < valid_from => Standing::NotYet,
        "active" if now >= valid_until => Standing::Expired,
        "active" => Standing::InForce,
        // An unknown status lets nothing through.
        _ => Standing::Revoked,
    }
}

impl Standing {
    /// The refusal of a call under an agreement that is not in force.
    pub fn refusal(self, id: i64) -> Option<Refusal> {
        Some(match self {
            Standing::InForce => return None,
            Standing::NotYet => Refusal::new(
                "agreement_not_yet_valid",
                format!("共享协议 {id} 尚未生效 (agreement {id} is not in force yet)"),
            ),
            Standing::Expired => Refusal::new(
                "agreement_expired",
                format!("共享协议 {id} 已到期 (agreement {id} has expired)"),
            ),
            Standing::Suspended => Refusal::new(
                "agreement_suspended",
                format!("共享协议 {id} 已暂停 (agreement {id} is suspended)"),
            ),
            Standing::Revoked => Refusal::new(
                "agreement_revoked",
                format!("共享协议 {id} 已撤销 (agreement {id} was revoked)"),
            ),
        })
    }
}

/// The minute and the day (UTC) a moment falls in, as the usage windows' starts.
pub fn windows(now: UnixTime) -> (UnixTime, UnixTime) {
    (now - now.rem_euclid(60), now - now.rem_euclid(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: UnixTime = 1_760_000_000;

    #[test]
    fn in_force_to_the_second() {
        let t = terms(T, 1);
        assert_eq!(t.valid_until - t.valid_from, 86_400);
        let at = |now| standing("active", t.valid_from, t.valid_until, now);
        assert_eq!(at(T - 1), Standing::NotYet);
        assert_eq!(at(T), Standing::InForce);
        assert_eq!(at(t.valid_until - 1), Standing::InForce);
        assert_eq!(at(t.valid_until), Standing::Expired);
        assert_eq!(at(t.valid_until + 1), Standing::Expired);
        assert_eq!(standing("revoked", T, T + 10, T + 5), Standing::Revoked);
        assert_eq!(standing("suspended", T, T + 10, T + 5), Standing::Suspended);
        assert_eq!(standing("???", T, T + 10, T + 5), Standing::Revoked);
        assert!(Standing::InForce.refusal(1).is_none());
        assert_eq!(
            Standing::Expired.refusal(7).unwrap().code,
            "agreement_expired"
        );
    }

    #[test]
    fn windows_start_on_the_minute_and_day() {
        let (m, d) = windows(T + 61);
        assert_eq!(m % 60, 0);
        assert_eq!(d % 86_400, 0);
        assert!(m <= T + 61 && T + 61 < m + 60);
    }
}
