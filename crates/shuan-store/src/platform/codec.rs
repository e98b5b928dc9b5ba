//! How record fields are written into columns and read back, the same for both backends
//! (so a record moved from one backend to the other reads the same).

use shuan_access::{DataScope, Grant, GrantError, Role};

use super::{ElevationStatus, PlatformStoreError, Session, UnixTime};

/// A data scope as the text stored in `scope` columns: its serde JSON. Chosen departments
/// are a sorted set, so one scope always has one text and `UNIQUE (…, scope)` holds.
pub(crate) fn scope_text(scope: &DataScope) -> Result<String, PlatformStoreError> {
    serde_json::to_string(scope).map_err(|e| PlatformStoreError::Query {
        what: "encode data scope",
        message: e.to_string(),
    })
}

pub(crate) fn parse_scope(text: &str) -> Result<DataScope, PlatformStoreError> {
    serde_json::from_str(text).map_err(|e| PlatformStoreError::Query {
        what: "decode stored data scope",
        message: e.to_string(),
    })
}

pub(crate) fn parse_role(id: &str) -> Result<Role, PlatformStoreError> {
    Role::from_id(id).ok_or_else(|| PlatformStoreError::Query {
        what: "decode stored role",
        message: format!("unknown role id {id:?} (written by a newer shuan?)"),
    })
}

pub(crate) fn grant_from(
    role: &str,
    department: String,
    scope: &str,
) -> Result<Grant, PlatformStoreError> {
    Ok(Grant {
        role: parse_role(role)?,
        department,
        scope: parse_scope(scope)?,
    })
}

pub(crate) fn parse_status(text: &str) -> Result<ElevationStatus, PlatformStoreError> {
    match text {
        "pending" => Ok(ElevationStatus::Pending),
        "approved" => Ok(ElevationStatus::Approved),
        "rejected" => Ok(ElevationStatus::Rejected),
        other => Err(PlatformStoreError::Query {
            what: "decode elevation status",
            message: format!("unknown status {other:?}"),
        }),
    }
}

pub(crate) fn json_text(
    what: &'static str,
    value: &serde_json::Value,
) -> Result<String, PlatformStoreError> {
    serde_json::to_string(value).map_err(|e| PlatformStoreError::Query {
        what,
        message: e.to_string(),
    })
}

pub(crate) fn parse_json(
    what: &'static str,
    text: &str,
) -> Result<serde_json::Value, PlatformStoreError> {
    serde_json::from_str(text).map_err(|e| PlatformStoreError::Query {
        what,
        message: e.to_string(),
    })
}

/// TOTP steps, ledger sequence numbers and checkpoint sizes are `u64` in the records but
/// both databases store signed 64-bit integers. Values past `i64::MAX` (never produced by
/// a clock or a ledger, but possible from bad input) are refused rather than wrapped.
pub(crate) fn to_i64(what: &'static str, value: u64) -> Result<i64, PlatformStoreError> {
    i64::try_from(value).map_err(|_| {
        PlatformStoreError::Conflict(format!(
            "{what} {value} is out of range (at most {})",
            i64::MAX
        ))
    })
}

pub(crate) fn to_u64(what: &'static str, value: i64) -> Result<u64, PlatformStoreError> {
    u64::try_from(value).map_err(|_| PlatformStoreError::Query {
        what,
        message: format!("negative value {value} stored"),
    })
}

/// `LIMIT`/`OFFSET` values: a `usize` from the caller may exceed `i64`.
pub(crate) fn clamp_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The session rule of [`super::PlatformStore::session_by_token`]: not past its absolute
/// end, and seen within the idle time.
pub(crate) fn session_alive(s: &Session, now: UnixTime, idle_secs: i64) -> bool {
    now < s.expires_at && now < s.last_seen_at.saturating_add(idle_secs)
}

/// The separation-of-duties check of a new grant or an approved elevation. `held` are the
/// account's grants: every refusal of [`shuan_access::check_grant`] applies. `elevated`
/// are grants in force through approved elevations: they take part in the rules between
/// roles (an auditor elevated to system administrator is two of the three at once) but a
/// permanent grant of what is only temporarily held is not a duplicate.
pub(crate) fn check_separation(
    vendor: bool,
    held: &[Grant],
    elevated: &[Grant],
    wanted: &Grant,
) -> Result<(), PlatformStoreError> {
    shuan_access::check_grant(vendor, held, wanted)?;
    match shuan_access::check_grant(vendor, elevated, wanted) {
        Ok(()) | Err(GrantError::Duplicate) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_chosen_sets_have_one_text() {
        for scope in [
            DataScope::All,
            DataScope::OwnDepartment,
            DataScope::OwnDepartmentAndBelow,
            DataScope::SelfOnly,
            DataScope::Chosen(["b".to_string(), "a".to_string()].into()),
        ] {
            let text = scope_text(&scope).unwrap();
            assert_eq!(parse_scope(&text).unwrap(), scope);
        }
        let one = scope_text(&DataScope::Chosen(["b".into(), "a".into()].into())).unwrap();
        let other = scope_text(&DataScope::Chosen(["a".into(), "b".into()].into())).unwrap();
        assert_eq!(one, other);
    }

    #[test]
    fn out_of_range_numbers_are_refused_not_wrapped() {
        assert!(matches!(
            to_i64("TOTP step", u64::MAX),
            Err(PlatformStoreError::Conflict(_))
        ));
        assert_eq!(to_i64("TOTP step", 7).unwrap(), 7);
        assert!(to_u64("seq", -1).is_err());
    }
}
