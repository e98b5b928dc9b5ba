//! Security incidents (安全事件, R-34) and their timeline.
//!
//! An incident is reported with its grade (特别重大 / 重大 / 较大 / 一般), department,
//! responsible person and the alerts and audit records it concerns; it is `responding`
//! until its response ends, when the supplementary report (补充报告) falls due 15 days
//! later (XY 36: within 15 days after the response ends); it is `closed` only with that
//! report and the lessons learnt. Every change appends an event to its timeline in the
//! same transaction, and every change of status is a compare-and-set on the status read.
//! [`IncidentStore`] is a supertrait of [`super::PlatformStore`]; both backends run the
//! one implementation in this file.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, to_json, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// Days after the end of the response within which the supplementary report is due
/// (XY 36).
pub const SUPPLEMENTARY_DAYS: i64 = 15;

/// Where an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// 处置中.
    Responding,
    /// 处置结束: the supplementary report is due.
    ResponseEnded,
    /// 已结案. Final.
    Closed,
}

impl IncidentStatus {
    /// Every status.
    pub const ALL: [IncidentStatus; 3] = [
        IncidentStatus::Responding,
        IncidentStatus::ResponseEnded,
        IncidentStatus::Closed,
    ];

    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Responding => "responding",
            IncidentStatus::ResponseEnded => "response_ended",
            IncidentStatus::Closed => "closed",
        }
    }

    /// From the stable id.
    pub fn parse(s: &str) -> Option<IncidentStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            IncidentStatus::Responding => "处置中",
            IncidentStatus::ResponseEnded => "处置结束",
            IncidentStatus::Closed => "已结案",
        }
    }
}

/// One incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Id (assigned by the store).
    pub id: i64,
    /// 事件名称.
    pub title: String,
    /// `especially_major`, `major`, `larger` or `general`.
    pub grade: String,
    /// The department it happened in.
    pub department: String,
    /// What happened.
    pub description: String,
    /// When it happened.
    pub occurred_at: UnixTime,
    /// The responsible person (an account).
    pub handler: String,
    /// Misuse alerts it concerns.
    pub alerts: Vec<i64>,
    /// Request ids of audit records it concerns.
    pub audit_refs: Vec<String>,
    /// Where it is.
    pub status: IncidentStatus,
    /// Who reported it.
    pub reported_by: String,
    /// When.
    pub reported_at: UnixTime,
    /// Who reported it to the supervisor (上报).
    pub supervisor_reported_by: Option<String>,
    /// When.
    pub supervisor_reported_at: Option<UnixTime>,
    /// When the response ended.
    pub response_ended_at: Option<UnixTime>,
    /// When the supplementary report is due.
    pub supplementary_due: Option<UnixTime>,
    /// The supplementary report (补充报告).
    pub supplementary_report: Option<String>,
    /// Who submitted it.
    pub supplementary_by: Option<String>,
    /// When.
    pub supplementary_at: Option<UnixTime>,
    /// Lessons learnt (经验教训), given when closing.
    pub lessons: Option<String>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// When.
    pub closed_at: Option<UnixTime>,
}

impl Incident {
    /// Whether the supplementary report is overdue at `now`: due, not submitted.
    pub fn overdue_at(&self, now: UnixTime) -> bool {
        self.supplementary_report.is_none() && self.supplementary_due.is_some_and(|d| now >= d)
    }
}

/// One event of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentEvent {
    /// Id (assigned by the store).
    pub id: i64,
    /// The incident.
    pub incident_id: i64,
    /// When.
    pub at: UnixTime,
    /// Who.
    pub actor: String,
    /// `reported`, `note`, `supervisor_reported`, `response_ended`, `supplementary` or
    /// `closed`.
    pub kind: String,
    /// What was said or done.
    pub note: String,
}

/// The incident records; a supertrait of [`super::PlatformStore`].
pub trait IncidentStore {
    /// Files an incident as responding (its `id`, `status` and later fields are not read)
    /// with a `reported` event; answers its id.
    fn create_incident(&self, i: &Incident) -> Result<i64, PlatformStoreError>;
    /// One incident.
    fn incident(&self, id: i64) -> Result<Option<Incident>, PlatformStoreError>;
    /// Incidents, newest first; of one status when given.
    fn incidents(
        &self,
        status: Option<IncidentStatus>,
    ) -> Result<Vec<Incident>, PlatformStoreError>;
    /// The timeline of an incident, oldest first.
    fn incident_events(&self, id: i64) -> Result<Vec<IncidentEvent>, PlatformStoreError>;
    /// Appends a note to the timeline of an incident that is not closed.
    fn add_incident_note(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError>;
    /// Records the report to the supervisor (once).
    fn report_incident_to_supervisor(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError>;
    /// Ends the response of a responding incident: the supplementary report falls due
    /// [`SUPPLEMENTARY_DAYS`] days after `now`.
    fn end_incident_response(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError>;
    /// Submits the supplementary report of an incident whose response ended (once; a
    /// late one is kept, its lateness visible from `supplementary_at`).
    fn submit_incident_supplementary(
        &self,
        id: i64,
        by: &str,
        report: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError>;
    /// Closes an incident whose supplementary report is in, with the lessons learnt.
    fn close_incident(
        &self,
        id: i64,
        by: &str,
        lessons: &str,
        now: UnixTime,
    ) -> Result<Incident, PlatformStoreError>;
    /// Incidents whose supplementary report is overdue at `now`, oldest due first.
    fn overdue_incidents(&self, now: UnixTime) -> Result<Vec<Incident>, PlatformStoreError>;
}

/// Implements [`IncidentStore`] for a backend (see `delegate_to_ops`).
macro_rules! incident_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::IncidentStore, $backend, $exec, incidents {
            write "file incident" fn create_incident(i: &$crate::platform::Incident) -> i64;
            read "read incident" fn incident(id: i64) -> Option<$crate::platform::Incident>;
            read "list incidents" fn incidents(status: Option<$crate::platform::IncidentStatus>) -> Vec<$crate::platform::Incident>;
            read "read incident timeline" fn incident_events(id: i64) -> Vec<$crate::platform::IncidentEvent>;
            write "note incident" fn add_incident_note(id: i64, by: &str, note: &str, now: $crate::platform::UnixTime) -> $crate::platform::Incident;
            write "report incident" fn report_incident_to_supervisor(id: i64, by: &str, note: &str, now: $crate::platform::UnixTime) -> $crate::platform::Incident;
            write "end incident response" fn end_incident_response(id: i64, by: &str, note: &str, now: $crate::platform::UnixTime) -> $crate::platform::Incident;
            write "submit incident report" fn submit_incident_supplementary(id: i64, by: &str, report: &str, now: $crate::platform::UnixTime) -> $crate::platform::Incident;
            write "close incident" fn close_incident(id: i64, by: &str, lessons: &str, now: $crate::platform::UnixTime) -> $crate::platform::Incident;
            read "list overdue incidents" fn overdue_incidents(now: $crate::platform::UnixTime) -> Vec<$crate::platform::Incident>;
        });
    };
}
pub(crate) use incident_store_for;

/// The one implementation of [`IncidentStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const COLUMNS: &str = "id, title, grade, department, description, occurred_at, handler, \
         alerts, audit_refs, status, reported_by, reported_at, supervisor_reported_by, \
         supervisor_reported_at, response_ended_at, supplementary_due, supplementary_report, \
         supplementary_by, supplementary_at, lessons, closed_by, closed_at";

    fn incident_from(r: &[Val]) -> Result<Incident, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(9)?;
        Ok(Incident {
            id: c.int(0)?,
            title: c.text(1)?,
            grade: c.text(2)?,
            department: c.text(3)?,
            description: c.text(4)?,
            occurred_at: c.int(5)?,
            handler: c.text(6)?,
            alerts: c.json(7)?,
            audit_refs: c.json(8)?,
            status: IncidentStatus::parse(&status)
                .ok_or_else(|| bad("decode incident", format!("unknown status {status:?}")))?,
            reported_by: c.text(10)?,
            reported_at: c.int(11)?,
            supervisor_reported_by: c.opt_text(12)?,
            supervisor_reported_at: c.opt_int(13)?,
            response_ended_at: c.opt_int(14)?,
            supplementary_due: c.opt_int(15)?,
            supplementary_report: c.opt_text(16)?,
            supplementary_by: c.opt_text(17)?,
            supplementary_at: c.opt_int(18)?,
            lessons: c.opt_text(19)?,
            closed_by: c.opt_text(20)?,
            closed_at: c.opt_int(21)?,
        })
    }

    fn event_from(r: &[Val]) -> Result<IncidentEvent, PlatformStoreError> {
        let c = Cols(r);
        Ok(IncidentEvent {
            id: c.int(0)?,
            incident_id: c.int(1)?,
            at: c.int(2)?,
            actor: c.text(3)?,
            kind: c.text(4)?,
            note: c.text(5)?,
        })
    }

    fn conflict<E: Exec>(message: String) -> E::Fail {
        PlatformStoreError::Conflict(message).into()
    }

    fn event<E: Exec>(
        x: &mut E,
        id: i64,
        at: UnixTime,
        actor: &str,
        kind: &str,
        note: &str,
    ) -> R<(), E> {
        x.exec(
            "INSERT INTO incident_events (incident_id, at, actor, kind, note) \
             VALUES ($1, $2, $3, $4, $5)",
            &[id.into(), at.into(), actor.into(), kind.into(), note.into()],
        )?;
        Ok(())
    }

    pub(crate) fn create_incident<E: Exec>(x: &mut E, i: &Incident) -> R<i64, E> {
        let rows = x.rows(
            "INSERT INTO incidents (title, grade, department, description, occurred_at, \
             handler, alerts, audit_refs, status, reported_by, reported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'responding', $9, $10) RETURNING id",
            &[
                (&i.title).into(),
                (&i.grade).into(),
                (&i.department).into(),
                (&i.description).into(),
                i.occurred_at.into(),
                (&i.handler).into(),
                to_json(&i.alerts)?,
                to_json(&i.audit_refs)?,
                (&i.reported_by).into(),
                i.reported_at.into(),
            ],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| bad("file incident", "no id returned"))?;
        let id = Cols(row).int(0)?;
        event(
            x,
            id,
            i.reported_at,
            &i.reported_by,
            "reported",
            &i.description,
        )?;
        Ok(id)
    }

    pub(crate) fn incident<E: Exec>(x: &mut E, id: i64) -> R<Option<Incident>, E> {
        let rows = x.rows(
            &format!("SELECT {COLUMNS} FROM incidents WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| incident_from(r)).transpose()?)
    }

    pub(crate) fn incidents<E: Exec>(
        x: &mut E,
        status: Option<IncidentStatus>,
    ) -> R<Vec<Incident>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM incidents \
                 WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) ORDER BY id DESC"
            ),
            &[status.map(IncidentStatus::as_str).into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| incident_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn incident_events<E: Exec>(x: &mut E, id: i64) -> R<Vec<IncidentEvent>, E> {
        let rows = x.rows(
            "SELECT id, incident_id, at, actor, kind, note FROM incident_events \
             WHERE incident_id = $1 ORDER BY id",
            &[id.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| event_from(r))
            .collect::<Result<_, _>>()?)
    }

    fn current<E: Exec>(x: &mut E, id: i64) -> R<Incident, E> {
        incident(x, id)?.ok_or_else(|| {
            PlatformStoreError::NotFound {
                kind: "incident",
                id: id.to_string(),
            }
            .into()
        })
    }

    fn wrong_status<E: Exec>(i: &Incident, wanted: IncidentStatus) -> E::Fail {
        conflict::<E>(format!(
            "事件 {} 当前为{}，须为{} (incident {} is {}, it must be {})",
            i.id,
            i.status.label(),
            wanted.label(),
            i.id,
            i.status.as_str(),
            wanted.as_str()
        ))
    }

    fn need_text<E: Exec>(what: &str, text: &str) -> R<(), E> {
        if text.trim().is_empty() {
            return Err(conflict::<E>(format!(
                "{what} 不能为空 ({what} is required)"
            )));
        }
        Ok(())
    }

    /// Compare-and-set of the status (and the rest of the SET clause, parameters from
    /// `$3`).
    fn swap<E: Exec>(
        x: &mut E,
        i: &Incident,
        to: IncidentStatus,
        set: &str,
        params: &[Val],
    ) -> R<(), E> {
        let mut all = vec![i.id.into(), to.as_str().into()];
        all.extend_from_slice(params);
        let n = params.len() + 3;
        all.push(i.status.as_str().into());
        let changed = x.exec(
            &format!("UPDATE incidents SET status = $2{set} WHERE id = $1 AND status = ${n}"),
            &all,
        )?;
        if changed == 0 {
            let now = current(x, i.id)?;
            return Err(wrong_status::<E>(&now, i.status));
        }
        Ok(())
    }

    pub(crate) fn add_incident_note<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> R<Incident, E> {
        need_text::<E>("note", note)?;
        let i = current(x, id)?;
        if i.status == IncidentStatus::Closed {
            return Err(conflict::<E>(format!(
                "事件 {id} 已结案 (incident {id} is closed)"
            )));
        }
        event(x, id, now, by, "note", note)?;
        Ok(i)
    }

    pub(crate) fn report_incident_to_supervisor<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> R<Incident, E> {
        need_text::<E>("note", note)?;
        let i = current(x, id)?;
        if i.supervisor_reported_at.is_some() {
            return Err(conflict::<E>(format!(
                "事件 {id} 已上报 (incident {id} was reported to the supervisor already)"
            )));
        }
        let changed = x.exec(
            "UPDATE incidents SET supervisor_reported_by = $2, supervisor_reported_at = $3 \
             WHERE id = $1 AND supervisor_reported_at IS NULL",
            &[id.into(), by.into(), now.into()],
        )?;
        if changed == 0 {
            return Err(conflict::<E>(format!(
                "事件 {id} 已上报 (incident {id} was reported to the supervisor already)"
            )));
        }
        event(x, id, now, by, "supervisor_reported", note)?;
        current(x, id)
    }

    pub(crate) fn end_incident_response<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> R<Incident, E> {
        need_text::<E>("note", note)?;
        let i = current(x, id)?;
        if i.status != IncidentStatus::Responding {
            return Err(wrong_status::<E>(&i, IncidentStatus::Responding));
        }
        let due = now + SUPPLEMENTARY_DAYS * 86_400;
        swap(
            x,
            &i,
            IncidentStatus::ResponseEnded,
            ", response_ended_at = $3, supplementary_due = $4",
            &[now.into(), due.into()],
        )?;
        event(x, id, now, by, "response_ended", note)?;
        current(x, id)
    }

    pub(crate) fn submit_incident_supplementary<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        report: &str,
        now: UnixTime,
    ) -> R<Incident, E> {
        need_text::<E>("report", report)?;
        let i = current(x, id)?;
        if i.status != IncidentStatus::ResponseEnded {
            return Err(wrong_status::<E>(&i, IncidentStatus::ResponseEnded));
        }
        let changed = x.exec(
            "UPDATE incidents SET supplementary_report = $2, supplementary_by = $3, \
             supplementary_at = $4 WHERE id = $1 AND status = 'response_ended' \
             AND supplementary_report IS NULL",
            &[id.into(), report.into(), by.into(), now.into()],
        )?;
        if changed == 0 {
            return Err(conflict::<E>(format!(
                "事件 {id} 的补充报告已提交 (the supplementary report of incident {id} is in already)"
            )));
        }
        event(x, id, now, by, "supplementary", report)?;
        current(x, id)
    }

    pub(crate) fn close_incident<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        lessons: &str,
        now: UnixTime,
    ) -> R<Incident, E> {
        need_text::<E>("lessons", lessons)?;
        let i = current(x, id)?;
        if i.status != IncidentStatus::ResponseEnded {
            return Err(wrong_status::<E>(&i, IncidentStatus::ResponseEnded));
        }
        if i.supplementary_report.is_none() {
            return Err(conflict::<E>(format!(
                "事件 {id} 须先提交补充报告才能结案 (incident {id} closes only after its supplementary report)"
            )));
        }
        swap(
            x,
            &i,
            IncidentStatus::Closed,
            ", lessons = $3, closed_by = $4, closed_at = $5",
            &[lessons.into(), by.into(), now.into()],
        )?;
        event(x, id, now, by, "closed", lessons)?;
        current(x, id)
    }

    pub(crate) fn overdue_incidents<E: Exec>(x: &mut E, now: UnixTime) -> R<Vec<Incident>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM incidents WHERE status = 'response_ended' \
                 AND supplementary_report IS NULL AND supplementary_due <= $1 \
                 ORDER BY supplementary_due, id"
            ),
            &[now.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| incident_from(r))
            .collect::<Result<_, _>>()?)
    }
}
