//! Risk assessments (风险评估, R-33) and rectification items (整改事项).
//!
//! An assessment is recorded with its findings; each finding becomes a rectification item
//! with a person responsible for it (its owner) and a due date, closed later with the
//! evidence of its closure. Emergency drills (see [`super::emergency`]) raise items the
//! same way, so one list answers "what is still to be rectified, and is any overdue".
//! An assessment and its items are written in one transaction. [`RiskStore`] is a
//! supertrait of [`super::PlatformStore`]; both backends run the one implementation here.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// The kinds of assessment (their ids are stable; the labels are the console's).
pub const ASSESSMENT_KINDS: &[(&str, &str)] = &[
    ("data_security", "数据安全风险评估"),
    ("important_data", "重要数据风险评估"),
    ("crypto_evaluation", "商用密码应用安全性评估"),
    ("classified_protection", "等级保护测评"),
    ("vulnerability_scan", "漏洞扫描与恶意代码检测"),
    ("supply_chain", "供应链安全审查"),
];

/// The severities of a finding.
pub const SEVERITIES: &[(&str, &str)] = &[("high", "高"), ("medium", "中"), ("low", "低")];

/// Where a rectification item came from.
pub const ORIGIN_ASSESSMENT: &str = "risk_assessment";
/// A rectification item raised by an emergency drill.
pub const ORIGIN_DRILL: &str = "emergency_drill";

/// One rectification item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    /// Id (assigned by the store).
    pub id: i64,
    /// [`ORIGIN_ASSESSMENT`] or [`ORIGIN_DRILL`] (set by the store).
    pub origin_kind: String,
    /// The assessment's or drill's id (set by the store).
    pub origin_id: i64,
    /// The department it belongs to (the origin's; set by the store).
    pub department: String,
    /// What was found (问题描述).
    pub finding: String,
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// Who must rectify it (an account).
    pub owner: String,
    /// When it must be closed by.
    pub due_at: UnixTime,
    /// When it was closed, if it was.
    pub closed_at: Option<UnixTime>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// What was done, and the evidence of it (整改情况及佐证).
    pub evidence: Option<String>,
    /// When it was raised.
    pub created_at: UnixTime,
}

impl Rectification {
    /// Open past its due date at `now`.
    pub fn overdue_at(&self, now: UnixTime) -> bool {
        self.closed_at.is_none() && self.due_at < now
    }
}

/// One assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAssessment {
    /// Id (assigned by the store).
    pub id: i64,
    /// One of [`ASSESSMENT_KINDS`].
    pub kind: String,
    /// 评估名称.
    pub title: String,
    /// What was assessed (systems, data, processes).
    pub scope: String,
    /// The department assessed.
    pub department: String,
    /// Who assessed it (the department itself or a named third party).
    pub assessor: String,
    /// When it was completed.
    pub assessed_at: UnixTime,
    /// Its conclusion (评估结论).
    pub conclusion: String,
    /// The findings, as rectification items.
    pub findings: Vec<Rectification>,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// The assessment records; a supertrait of [`super::PlatformStore`].
pub trait RiskStore {
    /// Records an assessment with its findings (ids, origins and departments of the
    /// findings are assigned); answers its id. `NotFound` for an unknown department or
    /// owner, nothing written.
    fn create_risk_assessment(&self, a: &RiskAssessment) -> Result<i64, PlatformStoreError>;
    /// Assessments, newest first, with their findings.
    fn risk_assessments(&self) -> Result<Vec<RiskAssessment>, PlatformStoreError>;
    /// Every rectification item, by due date.
    fn rectifications(&self) -> Result<Vec<Rectification>, PlatformStoreError>;
    /// One item.
    fn rectification(&self, id: i64) -> Result<Option<Rectification>, PlatformStoreError>;
    /// Closes an open item with its evidence; answers it closed. `NotFound`, or
    /// `Conflict` when it is already closed.
    fn close_rectification(
        &self,
        id: i64,
        by: &str,
        at: UnixTime,
        evidence: &str,
    ) -> Result<Rectification, PlatformStoreError>;
}

/// Implements [`RiskStore`] for a backend (see `delegate_to_ops`).
macro_rules! risk_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::RiskStore, $backend, $exec, risk {
            write "record risk assessment" fn create_risk_assessment(a: &$crate::platform::RiskAssessment) -> i64;
            read "list risk assessments" fn risk_assessments() -> Vec<$crate::platform::RiskAssessment>;
            read "list rectification items" fn rectifications() -> Vec<$crate::platform::Rectification>;
            read "read rectification item" fn rectification(id: i64) -> Option<$crate::platform::Rectification>;
            write "close rectification item" fn close_rectification(id: i64, by: &str, at: $crate::platform::UnixTime, evidence: &str) -> $crate::platform::Rectification;
        });
    };
}
pub(crate) use risk_store_for;

/// The one implementation of [`RiskStore`], over an [`Exec`]; the items' helpers are
/// shared with the emergency drills.
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const ITEM_COLUMNS: &str = "id, origin_kind, origin_id, department, finding, severity, \
         owner, due_at, closed_at, closed_by, evidence, created_at";

    fn item(r: &[Val]) -> Result<Rectification, PlatformStoreError> {
        let c = Cols(r);
        Ok(Rectification {
            id: c.int(0)?,
            origin_kind: c.text(1)?,
            origin_id: c.int(2)?,
            department: c.text(3)?,
            finding: c.text(4)?,
            severity: c.text(5)?,
            owner: c.text(6)?,
            due_at: c.int(7)?,
            closed_at: c.opt_int(8)?,
            closed_by: c.opt_text(9)?,
            evidence: c.opt_text(10)?,
            created_at: c.int(11)?,
        })
    }

    pub(crate) fn require_department<E: Exec>(x: &mut E, code: &str) -> R<(), E> {
        let known = x.rows(
            "SELECT code FROM departments WHERE code = $1",
            &[code.into()],
        )?;
        if known.is_empty() {
            return Err(PlatformStoreError::NotFound {
                kind: "department",
                id: code.to_string(),
            }
            .into());
        }
        Ok(())
    }

    pub(crate) fn require_user<E: Exec>(x: &mut E, username: &str) -> R<(), E> {
        let known = x.rows(
            "SELECT username FROM users WHERE username = $1",
            &[username.into()],
        )?;
        if known.is_empty() {
            return Err(PlatformStoreError::NotFound {
                kind: "user",
                id: username.to_string(),
            }
            .into());
        }
        Ok(())
    }

    /// Each id's position in a list read from the store, for attaching child rows in one
    /// pass rather than one search per row.
    pub(crate) fn position_by_id(
        ids: impl Iterator<Item = i64>,
    ) -> std::collections::HashMap<i64, usize> {
        ids.enumerate().map(|(n, id)| (id, n)).collect()
    }

    /// Inserts the findings of an assessment or drill as open items.
    pub(crate) fn insert_items<E: Exec>(
        x: &mut E,
        origin_kind: &str,
        origin_id: i64,
        department: &str,
        items: &[Rectification],
        at: UnixTime,
    ) -> R<(), E> {
        for f in items {
            require_user(x, &f.owner)?;
            x.exec(
                "INSERT INTO rectifications (origin_kind, origin_id, department, finding, \
                 severity, owner, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    origin_kind.into(),
                    origin_id.into(),
                    department.into(),
                    (&f.finding).into(),
                    (&f.severity).into(),
                    (&f.owner).into(),
                    f.due_at.into(),
                    at.into(),
                ],
            )?;
        }
        Ok(())
    }

    /// The items of one origin kind, keyed by origin id, in id order.
    pub(crate) fn items_of<E: Exec>(x: &mut E, origin_kind: &str) -> R<Vec<Rectification>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {ITEM_COLUMNS} FROM rectifications WHERE origin_kind = $1 ORDER BY id"
            ),
            &[origin_kind.into()],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(item(r)?);
        }
        Ok(out)
    }

    pub(crate) fn create_risk_assessment<E: Exec>(x: &mut E, a: &RiskAssessment) -> R<i64, E> {
        require_department(x, &a.department)?;
        let rows = x.rows(
            "INSERT INTO risk_assessments (kind, title, scope, department, assessor, \
             assessed_at, conclusion, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                (&a.kind).into(),
                (&a.title).into(),
                (&a.scope).into(),
                (&a.department).into(),
                (&a.assessor).into(),
                a.assessed_at.into(),
                (&a.conclusion).into(),
                (&a.created_by).into(),
                a.created_at.into(),
            ],
        )?;
        let id = Cols(
            rows.first()
                .ok_or_else(|| bad("record risk assessment", "no id returned"))?,
        )
        .int(0)?;
        insert_items(
            x,
            ORIGIN_ASSESSMENT,
            id,
            &a.department,
            &a.findings,
            a.created_at,
        )?;
        Ok(id)
    }

    pub(crate) fn risk_assessments<E: Exec>(x: &mut E) -> R<Vec<RiskAssessment>, E> {
        let rows = x.rows(
            "SELECT id, kind, title, scope, department, assessor, assessed_at, conclusion, \
             created_by, created_at FROM risk_assessments ORDER BY assessed_at DESC, id DESC",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            out.push(RiskAssessment {
                id: c.int(0)?,
                kind: c.text(1)?,
                title: c.text(2)?,
                scope: c.text(3)?,
                department: c.text(4)?,
                assessor: c.text(5)?,
                assessed_at: c.int(6)?,
                conclusion: c.text(7)?,
                findings: Vec::new(),
                created_by: c.text(8)?,
                created_at: c.int(9)?,
            });
        }
        let at = position_by_id(out.iter().map(|a| a.id));
        for i in items_of(x, ORIGIN_ASSESSMENT)? {
            if let Some(&n) = at.get(&i.origin_id) {
                out[n].findings.push(i);
            }
        }
        Ok(out)
    }

    pub(crate) fn rectifications<E: Exec>(x: &mut E) -> R<Vec<Rectification>, E> {
        let rows = x.rows(
            &format!("SELECT {ITEM_COLUMNS} FROM rectifications ORDER BY due_at, id"),
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(item(r)?);
        }
        Ok(out)
    }

    pub(crate) fn rectification<E: Exec>(x: &mut E, id: i64) -> R<Option<Rectification>, E> {
        let rows = x.rows(
            &format!("SELECT {ITEM_COLUMNS} FROM rectifications WHERE id = $1"),
            &[id.into()],
        )?;
        match rows.first() {
            Some(r) => Ok(Some(item(r)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn close_rectification<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        at: UnixTime,
        evidence: &str,
    ) -> R<Rectification, E> {
        // Only an open item changes: a second close (from another node too) finds it
        // closed and is refused rather than overwriting the first one's evidence.
        let changed = x.exec(
            "UPDATE rectifications SET closed_at = $1, closed_by = $2, evidence = $3 \
             WHERE id = $4 AND closed_at IS NULL",
            &[at.into(), by.into(), evidence.into(), id.into()],
        )?;
        let now = rectification(x, id)?;
        match now {
            None => Err(PlatformStoreError::NotFound {
                kind: "rectification",
                id: id.to_string(),
            }
            .into()),
            Some(_) if changed == 0 => Err(PlatformStoreError::Conflict(format!(
                "整改事项 {id} 已经关闭 (rectification item {id} is already closed)"
            ))
            .into()),
            Some(r) => Ok(r),
        }
    }
}
