//! Misuse detection (滥用检测, R-19) over the audit record stream. This crate owns the
//! tunable rules — volume spikes against a caller's own baseline, enumeration of
//! single-record lookups, off-hours calls, success after repeated denials, new client
//! addresses, vendor bulk exports, and access outside a sharing agreement's scope — read
//! from a TOML rule set a security administrator edits ([`RuleSet`]), the streaming engine
//! that turns [`shuan_ledger::Record`]s into de-duplicated [`Alert`]s with bounded memory
//! ([`Watcher`]), and pure formatters for delivering an alert (webhook JSON, RFC 5424
//! syslog). It must not store records or alerts, send network traffic, or read the wall
//! clock (time comes from the records), so that the server and a command-line replay can
//! both drive it and get the same alerts from the same records.

#![warn(missing_docs)]

pub mod alert;
pub mod engine;
pub mod rules;

pub use alert::{
    escape_param_value, syslog_line, syslog_severity, webhook_json, Alert, EvidenceRef,
    SyslogOptions,
};
pub use engine::{AgreementLookup, AgreementScope, Stats, Watcher};
pub use rules::{RuleId, RuleSet, RuleSetError, Severity, DEFAULT_RULES_TOML};
