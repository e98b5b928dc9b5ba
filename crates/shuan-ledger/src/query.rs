//! Query (查询) and export (导出) of records: filters, JSON lines and RFC 5424 syslog.

use crate::record::{ActorKind, Outcome, Record};
use crate::time::Timestamp;

/// Which records to select; every set field must match.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Records at or after this time.
    pub since: Option<Timestamp>,
    /// Records strictly before this time.
    pub until: Option<Timestamp>,
    /// Actor id, exactly.
    pub actor: Option<String>,
    /// Actor's department, exactly.
    pub department: Option<String>,
    /// Action, exactly.
    pub action: Option<String>,
    /// Object, exactly, or a prefix when it ends with `*`.
    pub object: Option<String>,
    /// Outcome.
    pub outcome: Option<Outcome>,
}

impl Filter {
    /// Does `r` match?
    pub fn matches(&self, r: &Record) -> bool {
        self.since.is_none_or(|t| r.time >= t)
            && self.until.is_none_or(|t| r.time < t)
            && self.actor.as_ref().is_none_or(|a| *a == r.actor.id)
            && self
                .department
                .as_ref()
                .is_none_or(|d| Some(d) == r.actor.department.as_ref())
            && self.action.as_ref().is_none_or(|a| *a == r.action)
            && self.outcome.is_none_or(|o| o == r.outcome)
            && self
                .object
                .as_ref()
                .is_none_or(|o| match o.strip_suffix('*') {
                    Some(prefix) => r.object.starts_with(prefix),
                    None => *o == r.object,
                })
    }
}

/// RFC 5424 PARAM-VALUE escaping: `"`, `\` and `]` get a backslash.
fn sd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// RFC 5424 header fields are printable US-ASCII without spaces, at most `max` long.
fn header_field(s: &str, max: usize) -> String {
    let t: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if t.is_empty() {
        "-".into()
    } else {
        t
    }
}

/// The private enterprise number in structured-data ids. 32473 is reserved for
/// documentation (RFC 5612); deployments can rewrite it with their own.
pub const SD_ENTERPRISE: u32 = 32473;

/// One record as an RFC 5424 syslog line (facility 13 "log audit"; severity info for
/// allowed, warning for denied, error for error). The MSG is the canonical JSON record.
pub fn to_syslog(r: &Record, hostname: &str) -> String {
    let severity = match r.outcome {
        Outcome::Allowed => 6,
        Outcome::Denied => 4,
        Outcome::Error => 3,
    };
    let pri = 13 * 8 + severity;
    let kind = match r.actor.kind {
        ActorKind::User => "user",
        ActorKind::System => "system",
    };
    let mut sd = format!(
        "[audit@{SD_ENTERPRISE} seq=\"{}\" actor=\"{}\" actorKind=\"{kind}\" object=\"{}\" outcome=\"{}\"",
        r.seq,
        sd_escape(&r.actor.id),
        sd_escape(&r.object),
        r.outcome
    );
    if let Some(d) = &r.actor.department {
        sd.push_str(&format!(" department=\"{}\"", sd_escape(d)));
    }
    if let Some(id) = &r.request_id {
        sd.push_str(&format!(" requestId=\"{}\"", sd_escape(id)));
    }
    sd.push(']');
    let msg = String::from_utf8(r.canonical_bytes()).expect("canonical JSON is UTF-8");
    format!(
        "<{pri}>1 {} {} shuan - {} {sd} \u{feff}{msg}",
        r.time,
        header_field(hostname, 255),
        header_field(&r.action, 32),
    )
}

/// The host name for syslog headers (`-` if unknown).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Actor, Client};

    fn rec() -> Record {
        Record {
            seq: 3,
            time: Timestamp::parse("2026-01-02T03:04:05Z").unwrap(),
            actor: Actor {
                kind: ActorKind::User,
                id: "li\"si]".into(),
                department: Some("民政局".into()),
                role: None,
            },
            action: "read column".into(),
            object: "pg:db.t.c".into(),
            purpose: None,
            outcome: Outcome::Denied,
            client: Some(Client::default()),
            request_id: None,
            details: Default::default(),
        }
    }

    #[test]
    fn syslog_line_shape() {
        let line = to_syslog(&rec(), "node 1");
        assert!(line.starts_with("<108>1 2026-01-02T03:04:05.000000Z node1 shuan - readcolumn [audit@32473 seq=\"3\" actor=\"li\\\"si\\]\""), "{line}");
        assert!(line.contains(" department=\"民政局\"]"));
        assert!(line.ends_with("\"seq\":3,\"time\":\"2026-01-02T03:04:05.000000Z\"}"));
    }

    #[test]
    fn filters() {
        let r = rec();
        let mut f = Filter {
            object: Some("pg:db.*".into()),
            outcome: Some(Outcome::Denied),
            ..Default::default()
        };
        assert!(f.matches(&r));
        f.since = Some(Timestamp::parse("2026-01-03").unwrap());
        assert!(!f.matches(&r));
        let g = Filter {
            actor: Some("zhang".into()),
            ..Default::default()
        };
        assert!(!g.matches(&r));
    }
}
