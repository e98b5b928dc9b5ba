//! Audit records (审计记录) and their canonical serialization.
//!
//! The canonical form is what gets hashed and signed, so it is specified exactly in
//! `docs/ledger.md`: a JSON object without whitespace, object keys sorted by their UTF-8
//! bytes at every depth, absent optional fields omitted (never `null`), strings escaped
//! minimally (`\"`, `\\`, `\b \f \n \r \t`, other controls as `\u00xx`, everything else as
//! raw UTF-8), numbers as serde_json prints them, the time as RFC 3339 UTC with six
//! fractional digits.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time::Timestamp;

/// A record's position in the ledger: 1 for the first record, no gaps.
pub type Seq = u64;

/// The largest canonical record the ledger accepts (1 MiB).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Who acted: a person or the platform itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person signed in to the platform (用户).
    User,
    /// The platform or another system acting on its own (系统).
    System,
}

/// The actor (操作主体) of an audited action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// User or system.
    pub kind: ActorKind,
    /// Account or system name.
    pub id: String,
    /// Department (部门).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Role (角色).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// What came of the action (结果).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Permitted and done.
    Allowed,
    /// Refused by policy.
    Denied,
    /// Attempted and failed.
    Error,
}

impl Outcome {
    /// The stable id (`allowed`, `denied`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the request came from (客户端).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Network address, e.g. `10.0.0.8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// User agent or program name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

/// An event to record, before the ledger numbers it. This is also the JSON-lines input
/// of `shuan audit append`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// When it happened; the ledger uses the time of `append` if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// Who acted.
    pub actor: Actor,
    /// What was done, a stable snake_case id such as `scan`, `mask`, `key_rotate`.
    pub action: String,
    /// What it was done to: a source/table/column or a platform object.
    pub object: String,
    /// Why (处理目的).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Allowed, denied or error.
    pub outcome: Outcome,
    /// Where the request came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
    /// Correlates the records of one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Anything else, as a JSON object.
    #[serde(default)]
    pub details: Map<String, Value>,
}

/// A numbered, stored audit record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Position in the ledger, from 1.
    pub seq: Seq,
    /// When it happened.
    pub time: Timestamp,
    /// Who acted.
    pub actor: Actor,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub object: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Allowed, denied or error.
    pub outcome: Outcome,
    /// Where the request came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
    /// Correlates the records of one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Anything else.
    #[serde(default)]
    pub details: Map<String, Value>,
}

/// Why an event cannot be recorded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    /// A required text field is empty.
    #[error("field `{0}` must not be empty")]
    Empty(&'static str),
    /// The canonical form is larger than [`MAX_RECORD_BYTES`].
    #[error("record is {0} bytes in canonical form; the limit is {MAX_RECORD_BYTES}")]
    TooLarge(usize),
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's string escaping is the minimal one documented above.
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

/// Writes a JSON value canonically: sorted keys at every depth, no whitespace.
pub fn write_canonical_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Object(map) => write_canonical_object(out, map),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_value(out, item);
            }
            out.push(b']');
        }
        Value::String(s) => write_str(out, s),
        other => serde_json::to_writer(&mut *out, other).expect("writing to a Vec cannot fail"),
    }
}

fn write_canonical_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    // Sorted explicitly: serde_json's Map order depends on a crate feature that another
    // crate in the build could switch on.
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    out.push(b'{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(out, k);
        write_canonical_value(out, &map[k]);
    }
    out.push(b'}');
}

fn write_opt(out: &mut Vec<u8>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        write_key(out, key);
        write_str(out, v);
        out.push(b',');
    }
}

/// Everything of the canonical form before `"seq"`: the keys that sort before it.
/// (Takes the fields one by one because [`Event`] and [`Record`] share it.)
#[allow(clippy::too_many_arguments)]
fn write_prefix(
    out: &mut Vec<u8>,
    action: &str,
    actor: &Actor,
    client: &Option<Client>,
    details: &Map<String, Value>,
    object: &str,
    outcome: Outcome,
    purpose: &Option<String>,
    request_id: &Option<String>,
) {
    out.push(b'{');
    write_key(out, "action");
    write_str(out, action);
    out.extend_from_slice(b",\"actor\":{");
    let mut fields = Vec::with_capacity(4);
    if let Some(d) = &actor.department {
        fields.push(("department", d.as_str()));
    }
    fields.push(("id", actor.id.as_str()));
    fields.push((
        "kind",
        match actor.kind {
            ActorKind::User => "user",
            ActorKind::System => "system",
        },
    ));
    if let Some(r) = &actor.role {
        fields.push(("role", r.as_str()));
    }
    for (i, (k, v)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(out, k);
        write_str(out, v);
    }
    out.extend_from_slice(b"},");
    if let Some(c) = client {
        if c.address.is_some() || c.agent.is_some() {
            out.extend_from_slice(b"\"client\":{");
            if let Some(a) = &c.address {
                write_key(out, "address");
                write_str(out, a);
                if c.agent.is_some() {
                    out.push(b',');
                }
            }
            if let Some(a) = &c.agent {
                write_key(out, "agent");
                write_str(out, a);
            }
            out.extend_from_slice(b"},");
        }
    }
    write_key(out, "details");
    write_canonical_object(out, details);
    out.push(b',');
    write_key(out, "object");
    write_str(out, object);
    out.push(b',');
    write_key(out, "outcome");
    write_str(out, outcome.as_str());
    out.push(b',');
    write_opt(out, "purpose", purpose);
    write_opt(out, "request_id", request_id);
}

fn write_suffix(out: &mut Vec<u8>, seq: Seq, time: Timestamp) {
    use std::io::Write;
    write!(out, "\"seq\":{seq},\"time\":\"{time}\"}}").expect("writing to a Vec cannot fail");
}

/// An event serialized up to its sequence number: the part of the canonical form that
/// does not depend on where the ledger puts it, so appenders can prepare it in parallel.
#[derive(Clone, Debug)]
pub struct PreparedEvent {
    pub(crate) prefix: Vec<u8>,
    pub(crate) time: Option<Timestamp>,
}

impl Event {
    /// Checks the event and serializes everything but `seq` and (if absent) `time`.
    pub fn prepare(&self) -> Result<PreparedEvent, RecordError> {
        if self.actor.id.is_empty() {
            return Err(RecordError::Empty("actor.id"));
        }
        if self.action.is_empty() {
            return Err(RecordError::Empty("action"));
        }
        let mut prefix = Vec::with_capacity(256);
        write_prefix(
            &mut prefix,
            &self.action,
            &self.actor,
            &self.client,
            &self.details,
            &self.object,
            self.outcome,
            &self.purpose,
            &self.request_id,
        );
        // seq (20 digits) and time (27 bytes) add at most 64 bytes.
        if prefix.len() + 64 > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge(prefix.len() + 64));
        }
        Ok(PreparedEvent {
            prefix,
            time: self.time,
        })
    }
}

impl PreparedEvent {
    /// The canonical bytes of the record numbered `seq` at `time` (used when the event
    /// has no time of its own).
    pub(crate) fn finish_into(&self, out: &mut Vec<u8>, seq: Seq, now: Timestamp) {
        out.extend_from_slice(&self.prefix);
        write_suffix(out, seq, self.time.unwrap_or(now));
    }
}

impl Record {
    /// The canonical bytes of this record (what is hashed).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        write_prefix(
            &mut out,
            &self.action,
            &self.actor,
            &self.client,
            &self.details,
            &self.object,
            self.outcome,
            &self.purpose,
            &self.request_id,
        );
        write_suffix(&mut out, self.seq, self.time);
        out
    }

    /// Parses stored canonical bytes; `None` if they are not a record or not canonical.
    pub fn from_canonical(bytes: &[u8]) -> Option<Record> {
        let r: Record = serde_json::from_slice(bytes).ok()?;
        if r.canonical_bytes() != bytes {
            return None;
        }
        Some(r)
    }

    /// The record as a JSON value (for export and `--format json`).
    pub fn to_json(&self) -> Value {
        serde_json::from_slice(&self.canonical_bytes()).expect("canonical bytes are JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        serde_json::from_str(
            r#"{"time":"2026-01-02T03:04:05Z","actor":{"kind":"user","id":"zhang.san","department":"大数据局","role":"analyst"},
            "action":"export","object":"pg:hr.staff.id_no","purpose":"统计","outcome":"allowed",
            "client":{"address":"10.0.0.8"},"request_id":"r-1","details":{"z":1,"a":[1.5,"x\n"],"m":{"b":null,"a":true}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn canonical_form_is_exact() {
        let p = sample().prepare().unwrap();
        let mut out = Vec::new();
        p.finish_into(&mut out, 7, Timestamp(0));
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"action":"export","actor":{"department":"大数据局","id":"zhang.san","kind":"user","role":"analyst"},"client":{"address":"10.0.0.8"},"details":{"a":[1.5,"x\n"],"m":{"a":true,"b":null},"z":1},"object":"pg:hr.staff.id_no","outcome":"allowed","purpose":"统计","request_id":"r-1","seq":7,"time":"2026-01-02T03:04:05.000000Z"}"#
        );
        let r = Record::from_canonical(&out).unwrap();
        assert_eq!(r.seq, 7);
        assert_eq!(r.canonical_bytes(), out);
    }

    #[test]
    fn non_canonical_bytes_are_rejected() {
        let p = sample().prepare().unwrap();
        let mut out = Vec::new();
        p.finish_into(&mut out, 7, Timestamp(0));
        let spaced = String::from_utf8(out).unwrap().replacen(':', ": ", 1);
        assert!(Record::from_canonical(spaced.as_bytes()).is_none());
    }

    #[test]
    fn empty_fields_are_refused() {
        let mut e = sample();
        e.action.clear();
        assert_eq!(e.prepare().unwrap_err(), RecordError::Empty("action"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<Event, _> = serde_json::from_str(
            r#"{"actor":{"kind":"system","id":"s"},"action":"a","object":"o","outcome":"denied","seq":3}"#,
        );
        assert!(r.is_err());
    }
}
