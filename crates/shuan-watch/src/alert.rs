//! Alerts (告警) and their delivery formats: a webhook JSON body and an RFC 5424 syslog
//! line. Formatting only — sending is the server's business.

use serde::Serialize;
use serde_json::{json, Value};
use shuan_ledger::{Seq, Timestamp};

use crate::rules::{RuleId, Severity};

/// A record that contributed to an alert: the node's ledger id and its sequence number
/// there (what `/api/v1/audit?node=…` finds it by).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EvidenceRef {
    /// The node (ledger id); empty when the records came from one unnamed ledger.
    pub node: String,
    /// Sequence number in that node's ledger.
    pub seq: Seq,
}

/// One alert: a rule fired for a caller in a window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// Which rule.
    pub rule: RuleId,
    /// The rule's Chinese label.
    pub rule_label: &'static str,
    /// How serious.
    pub severity: Severity,
    /// The caller's account (actor id).
    pub actor: String,
    /// The caller's department, as the latest record gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Start of the window the rule looked at.
    pub window_start: Timestamp,
    /// End of that window (exclusive).
    pub window_end: Timestamp,
    /// The time of the record that made the rule fire.
    pub at: Timestamp,
    /// What happened, in Chinese.
    pub summary_zh: String,
    /// What happened, in English.
    pub summary_en: String,
    /// The records that triggered it, the latest last (at most `engine.max_evidence`).
    pub evidence: Vec<EvidenceRef>,
    /// How many records the rule counted (may exceed `evidence.len()`).
    pub evidence_count: u64,
}

impl Alert {
    /// "中文 (English)", as console and report text is written.
    pub fn summary(&self) -> String {
        format!("{} ({})", self.summary_zh, self.summary_en)
    }

    /// A key naming this alert's rule, caller and window: the engine raises at most one
    /// alert per key, and a store can make it unique so that a restarted engine replaying
    /// records does not file the same alert twice.
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.rule.id(),
            self.window_start.micros(),
            self.actor
        )
    }
}

/// The JSON body of a webhook call for `alert`:
/// `{"source":"shuan","type":"misuse_alert","version":1,"key":…,"alert":{…}}`.
pub fn webhook_json(alert: &Alert) -> Value {
    json!({
        "source": "shuan",
        "type": "misuse_alert",
        "version": 1,
        "key": alert.key(),
        "alert": alert,
        "summary": alert.summary(),
    })
}

/// Where a syslog line says it comes from.
#[derive(Clone, Debug)]
pub struct SyslogOptions {
    /// Facility (0–23); default 13, "log audit".
    pub facility: u8,
    /// HOSTNAME field (printable ASCII, else `-`).
    pub hostname: String,
    /// APP-NAME field.
    pub app_name: String,
    /// The private enterprise number in the structured-data id `shuanAlert@PEN`.
    pub enterprise_number: u32,
}

impl Default for SyslogOptions {
    fn default() -> Self {
        SyslogOptions {
            facility: 13,
            hostname: "-".into(),
            app_name: "shuan".into(),
            // 32473 is the number RFC 5612 reserves for documentation; a deployment with
            // its own enterprise number sets it here.
            enterprise_number: 32473,
        }
    }
}

/// The syslog severity (RFC 5424 §6.2.1) of an alert severity.
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
    }
}

/// A header field (RFC 5424 §6: PRINTUSASCII, 1..=max chars) or the nil value `-`.
fn header_field(s: &str, max: usize) -> String {
    let v: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if v.is_empty() {
        "-".into()
    } else {
        v
    }
}

/// Escapes a PARAM-VALUE (RFC 5424 §6.3.3): `"`, `\` and `]` take a backslash.
pub fn escape_param_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One RFC 5424 syslog line (no trailing newline; the transport frames it):
/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - RULE [shuanAlert@PEN …] BOM summary`.
/// The timestamp is the alert's `at`, not the clock.
pub fn syslog_line(alert: &Alert, opts: &SyslogOptions) -> String {
    let pri = u16::from(opts.facility.min(23)) * 8 + u16::from(syslog_severity(alert.severity));
    let evidence: Vec<String> = alert
        .evidence
        .iter()
        .map(|e| {
            if e.node.is_empty() {
                e.seq.to_string()
            } else {
                format!("{}:{}", e.node, e.seq)
            }
        })
        .collect();
    let mut params: Vec<(&str, String)> = vec![
        ("rule", alert.rule.id().to_string()),
        ("severity", alert.severity.id().to_string()),
        ("actor", alert.actor.clone()),
    ];
    if let Some(d) = &alert.department {
        params.push(("department", d.clone()));
    }
    params.push(("start", alert.window_start.to_string()));
    params.push(("end", alert.window_end.to_string()));
    params.push(("count", alert.evidence_count.to_string()));
    params.push(("evidence", evidence.join(",")));
    let mut sd = format!("[shuanAlert@{}", opts.enterprise_number);
    for (k, v) in params {
        sd.push(' ');
        sd.push_str(k);
        sd.push_str("=\"");
        sd.push_str(&escape_param_value(&v));
        sd.push('"');
    }
    sd.push(']');
    // Control characters would break the line framing of most transports.
    let msg: String = alert
        .summary()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "<{pri}>1 {} {} {} - {} {sd} \u{feff}{msg}",
        alert.at,
        header_field(&opts.hostname, 255),
        header_field(&opts.app_name, 48),
        header_field(alert.rule.id(), 32),
    )
}
