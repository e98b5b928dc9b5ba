//! Misuse alerts (滥用告警, R-19): what the misuse engine (`shuan-watch`) raised over the
//! audit stream, and their handling (处置) by a security administrator — open, then
//! acknowledged (已确认), then closed (已关闭) with a note.
//!
//! [`AlertStore`] is a supertrait of [`super::PlatformStore`]; both backends run the one
//! implementation in this file over the sharing records' executor ([`super::sharing`]).
//! What must hold across nodes is kept by the database: an alert's key
//! (`rule:window-start:actor`) is unique, so of several nodes (or a restarted node
//! replaying recent records) raising the same alert, one row is filed; every change of
//! status is a compare-and-set on the status read, so of two handlers acting at once one
//! wins and the other is told the alert changed (`Conflict`) instead of overwriting it. A
//! closed alert is final, and closing needs a note. The rules themselves (which alert, when)
//! are `shuan-watch`'s; the rule set's TOML is kept as a setting.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, to_json, Cols, Exec, Val};
use super::{MirroredRecord, PlatformStoreError, UnixTime};

/// Where an alert is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// 待处理: raised, nobody has looked yet.
    Open,
    /// 已确认: a handler took it.
    Acknowledged,
    /// 已关闭: handled, with a note saying how. Final.
    Closed,
}

impl AlertStatus {
    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Closed => "closed",
        }
    }

    /// From the stable id.
    pub fn parse(s: &str) -> Option<AlertStatus> {
        Some(match s {
            "open" => AlertStatus::Open,
            "acknowledged" => AlertStatus::Acknowledged,
            "closed" => AlertStatus::Closed,
            _ => return None,
        })
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            AlertStatus::Open => "待处理",
            AlertStatus::Acknowledged => "已确认",
            AlertStatus::Closed => "已关闭",
        }
    }
}

/// A record behind an alert: the node (ledger id) and its sequence number there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvidence {
    /// The node's ledger id.
    pub node: String,
    /// The record's sequence number in that ledger.
    pub seq: u64,
}

/// One stored alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAlert {
    /// Id (assigned by the store).
    pub id: i64,
    /// `rule:window-start:actor` (unique).
    pub key: String,
    /// Rule id (`after_denials` …).
    pub rule: String,
    /// The rule's Chinese label.
    pub label: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The caller.
    pub actor: String,
    /// The caller's department, when the records gave it.
    pub department: Option<String>,
    /// Start of the window the rule looked at.
    pub window_start: UnixTime,
    /// End of that window (exclusive).
    pub window_end: UnixTime,
    /// Time of the record that made the rule fire.
    pub fired_at: UnixTime,
    /// What happened, in Chinese.
    pub summary_zh: String,
    /// What happened, in English.
    pub summary_en: String,
    /// The records behind it, the latest last.
    pub evidence: Vec<AlertEvidence>,
    /// How many records the rule counted (may exceed `evidence.len()`).
    pub evidence_count: i64,
    /// Where its handling is.
    pub status: AlertStatus,
    /// Who acknowledged or closed it last.
    pub handled_by: Option<String>,
    /// The closing note.
    pub note: Option<String>,
    /// Last change (the filing time at first).
    pub updated_at: UnixTime,
}

/// Filters of an alert list. All optional, joined by AND; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only in this status.
    pub status: Option<AlertStatus>,
    /// Only of this severity.
    pub severity: Option<String>,
    /// Only of this rule.
    pub rule: Option<String>,
    /// Only of this caller.
    pub actor: Option<String>,
    /// Fired at or after.
    pub since: Option<UnixTime>,
    /// At most this many; 0 means no limit.
    pub limit: usize,
    /// Skip this many.
    pub offset: usize,
}

/// The alert records; a supertrait of [`super::PlatformStore`].
pub trait AlertStore {
    /// Files an alert (its `id`, `status`, `handled_by` and `note` are not read: it is
    /// filed open) unless one with its key exists. Answers the new id, or `None` when the
    /// key was filed already (by this node before a restart, or by another node).
    fn insert_alert(&self, a: &StoredAlert) -> Result<Option<i64>, PlatformStoreError>;
    /// One alert.
    fn alert(&self, id: i64) -> Result<Option<StoredAlert>, PlatformStoreError>;
    /// Alerts, newest first (by firing time, then id).
    fn alerts(&self, f: &AlertFilter) -> Result<Vec<StoredAlert>, PlatformStoreError>;
    /// Marks an open alert acknowledged by `by`. An alert no longer open answers
    /// `Conflict` (someone else acknowledged or closed it first).
    fn acknowledge_alert(
        &self,
        id: i64,
        by: &str,
        now: UnixTime,
    ) -> Result<StoredAlert, PlatformStoreError>;
    /// Closes an open or acknowledged alert with a note (an empty note answers
    /// `Conflict`). A closed alert answers `Conflict`: closing is final.
    fn close_alert(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<StoredAlert, PlatformStoreError>;
    /// The copied audit records an alert's evidence names, in the evidence's order;
    /// references not (yet) copied are left out.
    fn alert_evidence(&self, id: i64) -> Result<Vec<MirroredRecord>, PlatformStoreError>;
}

/// Implements [`AlertStore`] for a backend (see `delegate_to_ops`).
macro_rules! alert_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::AlertStore, $backend, $exec, alerts {
            write "file alert" fn insert_alert(a: &$crate::platform::StoredAlert) -> Option<i64>;
            read "read alert" fn alert(id: i64) -> Option<$crate::platform::StoredAlert>;
            read "list alerts" fn alerts(f: &$crate::platform::AlertFilter) -> Vec<$crate::platform::StoredAlert>;
            write "acknowledge alert" fn acknowledge_alert(id: i64, by: &str, now: $crate::platform::UnixTime) -> $crate::platform::StoredAlert;
            write "close alert" fn close_alert(id: i64, by: &str, note: &str, now: $crate::platform::UnixTime) -> $crate::platform::StoredAlert;
            read "read alert evidence" fn alert_evidence(id: i64) -> Vec<$crate::platform::MirroredRecord>;
        });
    };
}
pub(crate) use alert_store_for;

/// The one implementation of [`AlertStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const COLUMNS: &str = "id, key, rule, label, severity, actor, department, window_start, \
         window_end, fired_at, summary_zh, summary_en, evidence, evidence_count, status, \
         handled_by, note, updated_at";

    fn alert_from(r: &[Val]) -> Result<StoredAlert, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(14)?;
        Ok(StoredAlert {
            id: c.int(0)?,
            key: c.text(1)?,
            rule: c.text(2)?,
            label: c.text(3)?,
            severity: c.text(4)?,
            actor: c.text(5)?,
            department: c.opt_text(6)?,
            window_start: c.int(7)?,
            window_end: c.int(8)?,
            fired_at: c.int(9)?,
            summary_zh: c.text(10)?,
            summary_en: c.text(11)?,
            evidence: c.json(12)?,
            evidence_count: c.int(13)?,
            status: AlertStatus::parse(&status)
                .ok_or_else(|| bad("decode alert", format!("unknown status {status:?}")))?,
            handled_by: c.opt_text(15)?,
            note: c.opt_text(16)?,
            updated_at: c.int(17)?,
        })
    }

    pub(crate) fn insert_alert<E: Exec>(x: &mut E, a: &StoredAlert) -> R<Option<i64>, E> {
        if !["low", "medium", "high", "critical"].contains(&a.severity.as_str()) {
            return Err(PlatformStoreError::Conflict(format!(
                "alert {}: unknown severity {:?}",
                a.key, a.severity
            ))
            .into());
        }
        // ON CONFLICT DO NOTHING: a duplicate key is the expected case of a replay, not
        // an error, and must not abort the transaction on PostgreSQL.
        let rows = x.rows(
            "INSERT INTO alerts (key, rule, label, severity, actor, department, window_start, \
             window_end, fired_at, summary_zh, summary_en, evidence, evidence_count, status, \
             handled_by, note, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'open', NULL, \
             NULL, $14) ON CONFLICT (key) DO NOTHING RETURNING id",
            &[
                (&a.key).into(),
                (&a.rule).into(),
                (&a.label).into(),
                (&a.severity).into(),
                (&a.actor).into(),
                (&a.department).into(),
                a.window_start.into(),
                a.window_end.into(),
                a.fired_at.into(),
                (&a.summary_zh).into(),
                (&a.summary_en).into(),
                to_json(&a.evidence)?,
                a.evidence_count.into(),
                a.updated_at.into(),
            ],
        )?;
        match rows.first() {
            Some(row) => Ok(Some(Cols(row).int(0)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn alert<E: Exec>(x: &mut E, id: i64) -> R<Option<StoredAlert>, E> {
        let rows = x.rows(
            &format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| alert_from(r)).transpose()?)
    }

    pub(crate) fn alerts<E: Exec>(x: &mut E, f: &AlertFilter) -> R<Vec<StoredAlert>, E> {
        let limit = if f.limit == 0 {
            i64::MAX
        } else {
            i64::try_from(f.limit).unwrap_or(i64::MAX)
        };
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM alerts \
                 WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR severity = $2) \
                 AND (CAST($3 AS TEXT) IS NULL OR rule = $3) AND (CAST($4 AS TEXT) IS NULL OR actor = $4) \
                 AND (CAST($5 AS BIGINT) IS NULL OR fired_at >= $5) \
                 ORDER BY fired_at DESC, id DESC LIMIT $6 OFFSET $7"
            ),
            &[
                f.status.map(AlertStatus::as_str).into(),
                (&f.severity).into(),
                (&f.rule).into(),
                (&f.actor).into(),
                f.since.into(),
                limit.into(),
                i64::try_from(f.offset).unwrap_or(i64::MAX).into(),
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| alert_from(r))
            .collect::<Result<_, _>>()?)
    }

    /// Moves alert `id` from one of `from` to `to`; a status outside `from` is a
    /// `Conflict` naming the status found, a missing alert `NotFound`.
    fn transition<E: Exec>(
        x: &mut E,
        id: i64,
        from: &[AlertStatus],
        to: AlertStatus,
        by: &str,
        note: Option<&str>,
        now: UnixTime,
    ) -> R<StoredAlert, E> {
        let Some(current) = alert(x, id)? else {
            return Err(PlatformStoreError::NotFound {
                kind: "alert",
                id: id.to_string(),
            }
            .into());
        };
        if !from.contains(&current.status) {
            return Err(conflict_of::<E>(&current, to));
        }
        // Compare-and-set on the status just read: of two handlers, the second finds
        // zero rows changed and is told, rather than overwriting the first's change.
        let changed = x.exec(
            "UPDATE alerts SET status = $2, handled_by = $3, note = COALESCE($4, note), \
             updated_at = $5 WHERE id = $1 AND status = $6",
            &[
                id.into(),
                to.as_str().into(),
                by.into(),
                note.into(),
                now.into(),
                current.status.as_str().into(),
            ],
        )?;
        if changed == 0 {
            let now_status = alert(x, id)?.unwrap_or(current);
            return Err(conflict_of::<E>(&now_status, to));
        }
        Ok(StoredAlert {
            status: to,
            handled_by: Some(by.to_string()),
            note: note.map(str::to_string).or(current.note),
            updated_at: now,
            ..current
        })
    }

    fn conflict_of<E: Exec>(a: &StoredAlert, to: AlertStatus) -> E::Fail {
        PlatformStoreError::Conflict(format!(
            "告警 {} 当前为{}，不能改为{} (alert {} is {}, it cannot become {})",
            a.id,
            a.status.label(),
            to.label(),
            a.id,
            a.status.as_str(),
            to.as_str()
        ))
        .into()
    }

    pub(crate) fn acknowledge_alert<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        now: UnixTime,
    ) -> R<StoredAlert, E> {
        transition(
            x,
            id,
            &[AlertStatus::Open],
            AlertStatus::Acknowledged,
            by,
            None,
            now,
        )
    }

    pub(crate) fn close_alert<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> R<StoredAlert, E> {
        if note.trim().is_empty() {
            return Err(PlatformStoreError::Conflict(
                "关闭告警须填写处置说明 (closing an alert needs a note)".into(),
            )
            .into());
        }
        transition(
            x,
            id,
            &[AlertStatus::Open, AlertStatus::Acknowledged],
            AlertStatus::Closed,
            by,
            Some(note),
            now,
        )
    }

    pub(crate) fn alert_evidence<E: Exec>(x: &mut E, id: i64) -> R<Vec<MirroredRecord>, E> {
        let Some(a) = alert(x, id)? else {
            return Err(PlatformStoreError::NotFound {
                kind: "alert",
                id: id.to_string(),
            }
            .into());
        };
        let mut out = Vec::with_capacity(a.evidence.len());
        for e in &a.evidence {
            let seq = i64::try_from(e.seq)
                .map_err(|_| bad("read alert evidence", format!("seq {} too large", e.seq)))?;
            let rows = x.rows(
                "SELECT node, seq, time, actor, action, outcome, request_id, record_json \
                 FROM audit_mirror WHERE node = $1 AND seq = $2",
                &[(&e.node).into(), seq.into()],
            )?;
            if let Some(r) = rows.first() {
                let c = Cols(r);
                out.push(MirroredRecord {
                    node: c.text(0)?,
                    seq: u64::try_from(c.int(1)?)
                        .map_err(|_| bad("read alert evidence", "negative seq"))?,
                    time: c.int(2)?,
                    actor: c.text(3)?,
                    action: c.text(4)?,
                    outcome: c.text(5)?,
                    request_id: c.opt_text(6)?,
                    record_json: c.text(7)?,
                });
            }
        }
        Ok(out)
    }
}
