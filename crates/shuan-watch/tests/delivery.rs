//! Delivery formats: webhook JSON and RFC 5424 syslog lines.

use serde_json::Value;
use shuan_ledger::Timestamp;
use shuan_watch::{
    escape_param_value, syslog_line, webhook_json, Alert, EvidenceRef, RuleId, Severity,
    SyslogOptions,
};

fn alert() -> Alert {
    Alert {
        rule: RuleId::Enumeration,
        rule_label: RuleId::Enumeration.label(),
        severity: Severity::Critical,
        actor: "li\"si]\\x".into(),
        department: Some("330100-rsj".into()),
        window_start: Timestamp::parse("2026-11-30T02:00:00Z").unwrap(),
        window_end: Timestamp::parse("2026-11-30T02:10:00Z").unwrap(),
        at: Timestamp::parse("2026-11-30T02:04:05.5Z").unwrap(),
        summary_zh: "枚举遍历：10 分钟内以 50 个不同参数值逐条查询\n".into(),
        summary_en: "enumeration: 50 lookups".into(),
        evidence: vec![
            EvidenceRef {
                node: "a1b2".into(),
                seq: 17,
            },
            EvidenceRef {
                node: "a1b2".into(),
                seq: 18,
            },
        ],
        evidence_count: 50,
    }
}

#[test]
fn webhook_body_carries_the_alert() {
    let a = alert();
    let v = webhook_json(&a);
    let text = serde_json::to_string(&v).unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back["source"], "shuan");
    assert_eq!(back["type"], "misuse_alert");
    assert_eq!(back["key"], a.key());
    let al = &back["alert"];
    assert_eq!(al["rule"], "enumeration");
    assert_eq!(al["rule_label"], "枚举遍历");
    assert_eq!(al["severity"], "critical");
    assert_eq!(al["actor"], "li\"si]\\x");
    assert_eq!(al["window_start"], "2026-11-30T02:00:00.000000Z");
    assert_eq!(al["evidence"][1]["seq"], 18);
    assert_eq!(al["evidence"][0]["node"], "a1b2");
    assert_eq!(al["evidence_count"], 50);
    assert!(back["summary"].as_str().unwrap().starts_with("枚举遍历"));
}

#[test]
fn syslog_line_follows_rfc_5424() {
    let a = alert();
    let opts = SyslogOptions {
        hostname: "shuan node 1".into(),
        ..SyslogOptions::default()
    };
    let line = syslog_line(&a, &opts);
    // facility 13 (log audit) × 8 + severity 2 (critical) = 106.
    let head =
        "<106>1 2026-11-30T02:04:05.500000Z shuannode1 shuan - enumeration [shuanAlert@32473 ";
    assert!(line.starts_with(head), "{line}");
    assert!(line.contains(r#"actor="li\"si\]\\x""#), "{line}");
    assert!(line.contains(r#"evidence="a1b2:17,a1b2:18""#), "{line}");
    assert!(
        line.contains(r#"start="2026-11-30T02:00:00.000000Z""#),
        "{line}"
    );
    // MSG is UTF-8 with a BOM, on one line.
    let msg = line
        .split("] \u{feff}")
        .nth(1)
        .expect("BOM after the structured data");
    assert!(msg.starts_with("枚举遍历"), "{msg}");
    assert!(!line.contains('\n'));
    // Parse the structured data back: every quote inside a value is escaped.
    let sd_start = line.find('[').unwrap();
    let mut in_value = false;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in line[sd_start..].char_indices() {
        match (in_value, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, true, _) => escaped = false,
            (true, false, '"') => in_value = false,
            (false, _, '"') => in_value = true,
            (false, _, ']') => {
                end = Some(sd_start + i);
                break;
            }
            _ => {}
        }
    }
    assert!(line[end.unwrap()..].starts_with("] \u{feff}"), "{line}");
}

#[test]
fn severities_map_to_syslog_levels_and_empty_fields_to_nil() {
    let mut a = alert();
    a.severity = Severity::Low;
    a.department = None;
    let line = syslog_line(
        &a,
        &SyslogOptions {
            facility: 4,
            hostname: String::new(),
            ..SyslogOptions::default()
        },
    );
    assert!(
        line.starts_with("<37>1 2026-11-30T02:04:05.500000Z - shuan - "),
        "{line}"
    );
    assert!(!line.contains("department="));
    assert_eq!(escape_param_value(r#"a"b\c]d"#), r#"a\"b\\c\]d"#);
}
