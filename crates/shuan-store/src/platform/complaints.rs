//! Complaints and reports of violations (投诉举报, R-37).
//!
//! A complaint is received (受理) with the reporter's identity already sealed by the
//! server — the store never sees it in clear — then assigned to a handler (承办人), who
//! handles it with a result (办理结果). Reassignment is possible until it is handled;
//! handling is once, by the assigned handler, by compare-and-set on the status.
//! [`ComplaintStore`] is a supertrait of [`super::PlatformStore`]; both backends run the
//! one implementation in this file.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// Where a complaint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    /// 已受理.
    Received,
    /// 已交办.
    Assigned,
    /// 已办结. Final.
    Handled,
}

impl ComplaintStatus {
    /// Every status.
    pub const ALL: [ComplaintStatus; 3] = [
        ComplaintStatus::Received,
        ComplaintStatus::Assigned,
        ComplaintStatus::Handled,
    ];

    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintStatus::Received => "received",
            ComplaintStatus::Assigned => "assigned",
            ComplaintStatus::Handled => "handled",
        }
    }

    /// From the stable id.
    pub fn parse(s: &str) -> Option<ComplaintStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ComplaintStatus::Received => "已受理",
            ComplaintStatus::Assigned => "已交办",
            ComplaintStatus::Handled => "已办结",
        }
    }
}

/// One complaint. Its `Debug` leaves the sealed identity out.
#[derive(Clone, PartialEq, Eq)]
pub struct Complaint {
    /// Id (assigned by the store).
    pub id: i64,
    /// The department complained about.
    pub department: String,
    /// 事由.
    pub subject: String,
    /// What was reported.
    pub details: String,
    /// `hotline`, `letter`, `email`, `web` or `visit`.
    pub channel: String,
    /// The reporter's identity sealed by the server; `None` for an anonymous report.
    pub reporter_sealed: Option<Vec<u8>>,
    /// What the seal is bound to (unique).
    pub seal_account: String,
    /// Where it is.
    pub status: ComplaintStatus,
    /// Who received it.
    pub received_by: String,
    /// When.
    pub received_at: UnixTime,
    /// The assigned handler.
    pub handler: Option<String>,
    /// Who assigned it.
    pub assigned_by: Option<String>,
    /// When.
    pub assigned_at: Option<UnixTime>,
    /// 办理结果.
    pub result: Option<String>,
    /// When it was handled.
    pub handled_at: Option<UnixTime>,
}

impl std::fmt::Debug for Complaint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Complaint")
            .field("id", &self.id)
            .field("department", &self.department)
            .field("status", &self.status)
            .field("anonymous", &self.reporter_sealed.is_none())
            .field("handler", &self.handler)
            .finish_non_exhaustive()
    }
}

/// The complaint records; a supertrait of [`super::PlatformStore`].
pub trait ComplaintStore {
    /// Files a received complaint (its `id`, `status` and later fields are not read);
    /// answers its id.
    fn create_complaint(&self, c: &Complaint) -> Result<i64, PlatformStoreError>;
    /// One complaint.
    fn complaint(&self, id: i64) -> Result<Option<Complaint>, PlatformStoreError>;
    /// Complaints, newest first.
    fn complaints(&self) -> Result<Vec<Complaint>, PlatformStoreError>;
    /// Assigns (or reassigns) a complaint not yet handled to `handler`.
    fn assign_complaint(
        &self,
        id: i64,
        handler: &str,
        by: &str,
        now: UnixTime,
    ) -> Result<Complaint, PlatformStoreError>;
    /// Handles an assigned complaint with its result; `by` must be its handler.
    fn handle_complaint(
        &self,
        id: i64,
        by: &str,
        result: &str,
        now: UnixTime,
    ) -> Result<Complaint, PlatformStoreError>;
}

/// Implements [`ComplaintStore`] for a backend (see `delegate_to_ops`).
macro_rules! complaint_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::ComplaintStore, $backend, $exec, complaints {
            write "file complaint" fn create_complaint(c: &$crate::platform::Complaint) -> i64;
            read "read complaint" fn complaint(id: i64) -> Option<$crate::platform::Complaint>;
            read "list complaints" fn complaints() -> Vec<$crate::platform::Complaint>;
            write "assign complaint" fn assign_complaint(id: i64, handler: &str, by: &str, now: $crate::platform::UnixTime) -> $crate::platform::Complaint;
            write "handle complaint" fn handle_complaint(id: i64, by: &str, result: &str, now: $crate::platform::UnixTime) -> $crate::platform::Complaint;
        });
    };
}
pub(crate) use complaint_store_for;

/// The one implementation of [`ComplaintStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const COLUMNS: &str = "id, department, subject, details, channel, reporter_sealed, \
         seal_account, status, received_by, received_at, handler, assigned_by, assigned_at, \
         result, handled_at";

    fn complaint_from(r: &[Val]) -> Result<Complaint, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(7)?;
        let sealed = match c.get(5)? {
            Val::Null => None,
            Val::Bytes(b) => Some(b.clone()),
            other => {
                return Err(bad(
                    "decode complaint",
                    format!("reporter_sealed is {other:?}, not bytes"),
                ))
            }
        };
        Ok(Complaint {
            id: c.int(0)?,
            department: c.text(1)?,
            subject: c.text(2)?,
            details: c.text(3)?,
            channel: c.text(4)?,
            reporter_sealed: sealed,
            seal_account: c.text(6)?,
            status: ComplaintStatus::parse(&status)
                .ok_or_else(|| bad("decode complaint", format!("unknown status {status:?}")))?,
            received_by: c.text(8)?,
            received_at: c.int(9)?,
            handler: c.opt_text(10)?,
            assigned_by: c.opt_text(11)?,
            assigned_at: c.opt_int(12)?,
            result: c.opt_text(13)?,
            handled_at: c.opt_int(14)?,
        })
    }

    fn conflict<E: Exec>(message: String) -> E::Fail {
        PlatformStoreError::Conflict(message).into()
    }

    pub(crate) fn create_complaint<E: Exec>(x: &mut E, c: &Complaint) -> R<i64, E> {
        let sealed = c
            .reporter_sealed
            .as_ref()
            .map_or(Val::Null, |b| Val::Bytes(b.clone()));
        let rows = x.rows(
            "INSERT INTO complaints (department, subject, details, channel, reporter_sealed, \
             seal_account, status, received_by, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $8) RETURNING id",
            &[
                (&c.department).into(),
                (&c.subject).into(),
                (&c.details).into(),
                (&c.channel).into(),
                sealed,
                (&c.seal_account).into(),
                (&c.received_by).into(),
                c.received_at.into(),
            ],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| bad("file complaint", "no id returned"))?;
        Ok(Cols(row).int(0)?)
    }

    pub(crate) fn complaint<E: Exec>(x: &mut E, id: i64) -> R<Option<Complaint>, E> {
        let rows = x.rows(
            &format!("SELECT {COLUMNS} FROM complaints WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| complaint_from(r)).transpose()?)
    }

    pub(crate) fn complaints<E: Exec>(x: &mut E) -> R<Vec<Complaint>, E> {
        let rows = x.rows(
            &format!("SELECT {COLUMNS} FROM complaints ORDER BY id DESC"),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| complaint_from(r))
            .collect::<Result<_, _>>()?)
    }

    fn current<E: Exec>(x: &mut E, id: i64) -> R<Complaint, E> {
        complaint(x, id)?.ok_or_else(|| {
            PlatformStoreError::NotFound {
                kind: "complaint",
                id: id.to_string(),
            }
            .into()
        })
    }

    pub(crate) fn assign_complaint<E: Exec>(
        x: &mut E,
        id: i64,
        handler: &str,
        by: &str,
        now: UnixTime,
    ) -> R<Complaint, E> {
        let c = current(x, id)?;
        if c.status == ComplaintStatus::Handled {
            return Err(conflict::<E>(format!(
                "投诉举报 {id} 已办结 (complaint {id} is handled)"
            )));
        }
        let changed = x.exec(
            "UPDATE complaints SET status = 'assigned', handler = $2, assigned_by = $3, \
             assigned_at = $4 WHERE id = $1 AND status = $5",
            &[
                id.into(),
                handler.into(),
                by.into(),
                now.into(),
                c.status.as_str().into(),
            ],
        )?;
        if changed == 0 {
            return Err(conflict::<E>(format!(
                "投诉举报 {id} 已被他人处理，请刷新 (complaint {id} changed meanwhile)"
            )));
        }
        current(x, id)
    }

    pub(crate) fn handle_complaint<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        result: &str,
        now: UnixTime,
    ) -> R<Complaint, E> {
        if result.trim().is_empty() {
            return Err(conflict::<E>(
                "办理结果不能为空 (the result is required)".into(),
            ));
        }
        let c = current(x, id)?;
        if c.status != ComplaintStatus::Assigned {
            return Err(conflict::<E>(format!(
                "投诉举报 {id} 当前为{}，须为已交办 (complaint {id} is {}, it must be assigned)",
                c.status.label(),
                c.status.as_str()
            )));
        }
        if c.handler.as_deref() != Some(by) {
            return Err(conflict::<E>(format!(
                "投诉举报 {id} 由承办人办理 (only the assigned handler handles complaint {id})"
            )));
        }
        let changed = x.exec(
            "UPDATE complaints SET status = 'handled', result = $3, handled_at = $4 \
             WHERE id = $1 AND status = 'assigned' AND handler = $2",
            &[id.into(), by.into(), result.into(), now.into()],
        )?;
        if changed == 0 {
            return Err(conflict::<E>(format!(
                "投诉举报 {id} 已被他人处理，请刷新 (complaint {id} changed meanwhile)"
            )));
        }
        current(x, id)
    }
}
