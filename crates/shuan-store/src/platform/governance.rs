//! Governance records (数据治理): destructions (数据销毁, R-26) and legal holds (法律保全).
//!
//! [`GovernanceStore`] is a supertrait of [`super::PlatformStore`]; both backends run the
//! one implementation in this file over the sharing records' executor. What must hold
//! across nodes is kept inside the transaction and by the database: a target has at most
//! one live destruction (a partial unique index on `target_key`), a held target is refused
//! when it is asked for and again when execution begins (a hold placed after approval
//! still stops it), nobody decides their own request, and every change of status is a
//! compare-and-set on the status read — of two nodes executing the same approved
//! destruction, one begins and the other is told it already did. The target itself is
//! JSON the store does not interpret (its rules are `shuan-govern`'s).

use serde::{Deserialize, Serialize};

use super::sharing::{bad, to_json, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// Where a destruction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestructionStatus {
    /// 待审批: asked, waiting for the chief data officer.
    Pending,
    /// 已批准: may be executed.
    Approved,
    /// 已驳回: refused, with a note. Final.
    Rejected,
    /// 执行中: begun by a node.
    Executing,
    /// 已销毁: destroyed, verified and certified. Final.
    Executed,
    /// 执行失败: failed, with what was and was not destroyed. Final, never certified.
    Failed,
}

impl DestructionStatus {
    /// Every status.
    pub const ALL: [DestructionStatus; 6] = [
        DestructionStatus::Pending,
        DestructionStatus::Approved,
        DestructionStatus::Rejected,
        DestructionStatus::Executing,
        DestructionStatus::Executed,
        DestructionStatus::Failed,
    ];

    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            DestructionStatus::Pending => "pending",
            DestructionStatus::Approved => "approved",
            DestructionStatus::Rejected => "rejected",
            DestructionStatus::Executing => "executing",
            DestructionStatus::Executed => "executed",
            DestructionStatus::Failed => "failed",
        }
    }

    /// From the stable id.
    pub fn parse(s: &str) -> Option<DestructionStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            DestructionStatus::Pending => "待审批",
            DestructionStatus::Approved => "已批准",
            DestructionStatus::Rejected => "已驳回",
            DestructionStatus::Executing => "执行中",
            DestructionStatus::Executed => "已销毁",
            DestructionStatus::Failed => "执行失败",
        }
    }
}

/// One destruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destruction {
    /// Id (assigned by the store).
    pub id: i64,
    /// The target as requested (JSON).
    pub target: String,
    /// The target's stable key.
    pub target_key: String,
    /// Hold keys of the scopes containing it.
    pub hold_keys: Vec<String>,
    /// Whose data (none for a key).
    pub department: Option<String>,
    /// The target in Chinese.
    pub label: String,
    /// Method id.
    pub method: String,
    /// Why.
    pub reason: String,
    /// Where it is.
    pub status: DestructionStatus,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: UnixTime,
    /// Rows matching when asked (rows and tables).
    pub matched: Option<i64>,
    /// Who approved or rejected.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UnixTime>,
    /// The decision's note (a rejection's reason).
    pub decision_note: Option<String>,
    /// Who executed.
    pub executed_by: Option<String>,
    /// When execution began, then when it ended.
    pub executed_at: Option<UnixTime>,
    /// What was and was not destroyed, and the check (JSON).
    pub outcome: Option<String>,
    /// The signed certificate (JSON; executed only).
    pub certificate: Option<String>,
}

/// One legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// Id (assigned by the store).
    pub id: i64,
    /// The key targets are matched on.
    pub hold_key: String,
    /// The scope as placed (JSON).
    pub scope: String,
    /// The scope in Chinese.
    pub label: String,
    /// Why (case number, investigation).
    pub reason: String,
    /// Who placed it.
    pub placed_by: String,
    /// When.
    pub placed_at: UnixTime,
    /// Who released it.
    pub released_by: Option<String>,
    /// When.
    pub released_at: Option<UnixTime>,
    /// Why it was released.
    pub release_note: Option<String>,
}

/// The governance records; a supertrait of [`super::PlatformStore`].
pub trait GovernanceStore {
    /// Files a destruction as pending (its `id`, `status` and decision and execution
    /// fields are not read). Refused with `Conflict` when an active hold covers one of
    /// its `hold_keys`, or when its target has a live destruction (asked, approved,
    /// executing, or already destroyed).
    fn create_destruction(&self, d: &Destruction) -> Result<i64, PlatformStoreError>;
    /// One destruction.
    fn destruction(&self, id: i64) -> Result<Option<Destruction>, PlatformStoreError>;
    /// Destructions, newest first; of one status when given.
    fn destructions(
        &self,
        status: Option<DestructionStatus>,
    ) -> Result<Vec<Destruction>, PlatformStoreError>;
    /// Approves or rejects a pending destruction. `by` must not be its requester; a
    /// rejection needs a note. Not pending: `Conflict`.
    fn decide_destruction(
        &self,
        id: i64,
        approve: bool,
        by: &str,
        note: Option<&str>,
        now: UnixTime,
    ) -> Result<Destruction, PlatformStoreError>;
    /// Moves an approved destruction to executing (one node wins). Refused with
    /// `Conflict` when it is not approved, or when a hold now covers it.
    fn begin_destruction(
        &self,
        id: i64,
        by: &str,
        now: UnixTime,
    ) -> Result<Destruction, PlatformStoreError>;
    /// Ends an executing destruction: executed with its certificate, or failed with the
    /// outcome saying what was and was not destroyed.
    fn finish_destruction(
        &self,
        id: i64,
        executed: bool,
        outcome: &str,
        certificate: Option<&str>,
        now: UnixTime,
    ) -> Result<Destruction, PlatformStoreError>;
    /// Places a hold; answers its id.
    fn place_hold(&self, h: &LegalHold) -> Result<i64, PlatformStoreError>;
    /// Releases an active hold with a note.
    fn release_hold(
        &self,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<LegalHold, PlatformStoreError>;
    /// Holds, newest first; only the active ones when asked.
    fn legal_holds(&self, active_only: bool) -> Result<Vec<LegalHold>, PlatformStoreError>;
}

/// Implements [`GovernanceStore`] for a backend (see `delegate_to_ops`).
macro_rules! governance_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::GovernanceStore, $backend, $exec, governance {
            write "file destruction" fn create_destruction(d: &$crate::platform::Destruction) -> i64;
            read "read destruction" fn destruction(id: i64) -> Option<$crate::platform::Destruction>;
            read "list destructions" fn destructions(status: Option<$crate::platform::DestructionStatus>) -> Vec<$crate::platform::Destruction>;
            write "decide destruction" fn decide_destruction(id: i64, approve: bool, by: &str, note: Option<&str>, now: $crate::platform::UnixTime) -> $crate::platform::Destruction;
            write "begin destruction" fn begin_destruction(id: i64, by: &str, now: $crate::platform::UnixTime) -> $crate::platform::Destruction;
            write "finish destruction" fn finish_destruction(id: i64, executed: bool, outcome: &str, certificate: Option<&str>, now: $crate::platform::UnixTime) -> $crate::platform::Destruction;
            write "place legal hold" fn place_hold(h: &$crate::platform::LegalHold) -> i64;
            write "release legal hold" fn release_hold(id: i64, by: &str, note: &str, now: $crate::platform::UnixTime) -> $crate::platform::LegalHold;
            read "list legal holds" fn legal_holds(active_only: bool) -> Vec<$crate::platform::LegalHold>;
        });
    };
}
pub(crate) use governance_store_for;

/// The one implementation of [`GovernanceStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const COLUMNS: &str = "id, target, target_key, hold_keys, department, label, method, \
         reason, status, requested_by, requested_at, matched, decided_by, decided_at, \
         decision_note, executed_by, executed_at, outcome, certificate";

    const HOLD_COLUMNS: &str = "id, hold_key, scope, label, reason, placed_by, placed_at, \
         released_by, released_at, release_note";

    fn destruction_from(r: &[Val]) -> Result<Destruction, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(8)?;
        Ok(Destruction {
            id: c.int(0)?,
            target: c.text(1)?,
            target_key: c.text(2)?,
            hold_keys: c.json(3)?,
            department: c.opt_text(4)?,
            label: c.text(5)?,
            method: c.text(6)?,
            reason: c.text(7)?,
            status: DestructionStatus::parse(&status)
                .ok_or_else(|| bad("decode destruction", format!("unknown status {status:?}")))?,
            requested_by: c.text(9)?,
            requested_at: c.int(10)?,
            matched: c.opt_int(11)?,
            decided_by: c.opt_text(12)?,
            decided_at: c.opt_int(13)?,
            decision_note: c.opt_text(14)?,
            executed_by: c.opt_text(15)?,
            executed_at: c.opt_int(16)?,
            outcome: c.opt_text(17)?,
            certificate: c.opt_text(18)?,
        })
    }

    fn hold_from(r: &[Val]) -> Result<LegalHold, PlatformStoreError> {
        let c = Cols(r);
        Ok(LegalHold {
            id: c.int(0)?,
            hold_key: c.text(1)?,
            scope: c.text(2)?,
            label: c.text(3)?,
            reason: c.text(4)?,
            placed_by: c.text(5)?,
            placed_at: c.int(6)?,
            released_by: c.opt_text(7)?,
            released_at: c.opt_int(8)?,
            release_note: c.opt_text(9)?,
        })
    }

    fn conflict<E: Exec>(message: String) -> E::Fail {
        PlatformStoreError::Conflict(message).into()
    }

    /// The first active hold on one of `keys`, as a refusal.
    fn refuse_if_held<E: Exec>(x: &mut E, keys: &[String]) -> R<(), E> {
        for key in keys {
            let rows = x.rows(
                &format!(
                    "SELECT {HOLD_COLUMNS} FROM legal_holds \
                     WHERE hold_key = $1 AND released_at IS NULL ORDER BY id LIMIT 1"
                ),
                &[key.into()],
            )?;
            if let Some(r) = rows.first() {
                let h = hold_from(r)?;
                return Err(conflict::<E>(format!(
                    "处于法律保全中，不能销毁：保全 {}（{}），原因：{} (under legal hold {} on {}: {})",
                    h.id, h.label, h.reason, h.id, h.hold_key, h.reason
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn create_destruction<E: Exec>(x: &mut E, d: &Destruction) -> R<i64, E> {
        refuse_if_held(x, &d.hold_keys)?;
        let live = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM destructions WHERE target_key = $1 \
                 AND status IN ('pending', 'approved', 'executing', 'executed') LIMIT 1"
            ),
            &[(&d.target_key).into()],
        )?;
        if let Some(r) = live.first() {
            let other = destruction_from(r)?;
            return Err(conflict::<E>(
                if other.status == DestructionStatus::Executed {
                    format!(
                        "该对象已于销毁单 {} 销毁 (already destroyed by destruction {})",
                        other.id, other.id
                    )
                } else {
                    format!(
                        "该对象已有销毁单 {}（{}） (destruction {} for it is {})",
                        other.id,
                        other.status.label(),
                        other.id,
                        other.status.as_str()
                    )
                },
            ));
        }
        let inserted = x.rows(
            "INSERT INTO destructions (target, target_key, hold_keys, department, label, \
             method, reason, status, requested_by, requested_at, matched) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10) RETURNING id",
            &[
                (&d.target).into(),
                (&d.target_key).into(),
                to_json(&d.hold_keys)?,
                (&d.department).into(),
                (&d.label).into(),
                (&d.method).into(),
                (&d.reason).into(),
                (&d.requested_by).into(),
                d.requested_at.into(),
                d.matched.into(),
            ],
        );
        match inserted {
            Ok(rows) => {
                let row = rows
                    .first()
                    .ok_or_else(|| bad("file destruction", "no id returned"))?;
                Ok(Cols(row).int(0)?)
            }
            // Another node filed the same target between the check and the insert.
            Err(e) if E::is_unique_violation(&e) => Err(conflict::<E>(format!(
                "该对象已有销毁单 (a destruction of {} was filed at the same time)",
                d.target_key
            ))),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn destruction<E: Exec>(x: &mut E, id: i64) -> R<Option<Destruction>, E> {
        let rows = x.rows(
            &format!("SELECT {COLUMNS} FROM destructions WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| destruction_from(r)).transpose()?)
    }

    pub(crate) fn destructions<E: Exec>(
        x: &mut E,
        status: Option<DestructionStatus>,
    ) -> R<Vec<Destruction>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM destructions \
                 WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) ORDER BY id DESC"
            ),
            &[status.map(DestructionStatus::as_str).into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| destruction_from(r))
            .collect::<Result<_, _>>()?)
    }

    fn current<E: Exec>(x: &mut E, id: i64) -> R<Destruction, E> {
        destruction(x, id)?.ok_or_else(|| {
            PlatformStoreError::NotFound {
                kind: "destruction",
                id: id.to_string(),
            }
            .into()
        })
    }

    fn wrong_status<E: Exec>(d: &Destruction, wanted: DestructionStatus) -> E::Fail {
        conflict::<E>(format!(
            "销毁单 {} 当前为{}，须为{} (destruction {} is {}, it must be {})",
            d.id,
            d.status.label(),
            wanted.label(),
            d.id,
            d.status.as_str(),
            wanted.as_str()
        ))
    }

    /// Compare-and-set of the status; `set` is the rest of the SET clause with
    /// parameters from `$3`.
    fn swap<E: Exec>(
        x: &mut E,
        d: &Destruction,
        to: DestructionStatus,
        set: &str,
        params: &[Val],
    ) -> R<(), E> {
        let mut all = vec![d.id.into(), to.as_str().into()];
        all.extend_from_slice(params);
        let n = params.len() + 3;
        all.push(d.status.as_str().into());
        let changed = x.exec(
            &format!("UPDATE destructions SET status = $2{set} WHERE id = $1 AND status = ${n}"),
            &all,
        )?;
        if changed == 0 {
            let now = current(x, d.id)?;
            return Err(wrong_status::<E>(&now, d.status));
        }
        Ok(())
    }

    pub(crate) fn decide_destruction<E: Exec>(
        x: &mut E,
        id: i64,
        approve: bool,
        by: &str,
        note: Option<&str>,
        now: UnixTime,
    ) -> R<Destruction, E> {
        let d = current(x, id)?;
        if d.status != DestructionStatus::Pending {
            return Err(wrong_status::<E>(&d, DestructionStatus::Pending));
        }
        if d.requested_by == by {
            return Err(conflict::<E>(
                "不能审批本人提交的销毁申请 (nobody decides their own destruction request)".into(),
            ));
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if !approve && note.is_none() {
            return Err(conflict::<E>(
                "驳回须填写理由 (a rejection needs a note)".into(),
            ));
        }
        let to = if approve {
            DestructionStatus::Approved
        } else {
            DestructionStatus::Rejected
        };
        swap(
            x,
            &d,
            to,
            ", decided_by = $3, decided_at = $4, decision_note = $5",
            &[by.into(), now.into(), note.into()],
        )?;
        current(x, id)
    }

    pub(crate) fn begin_destruction<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        now: UnixTime,
    ) -> R<Destruction, E> {
        let d = current(x, id)?;
        if d.status != DestructionStatus::Approved {
            return Err(wrong_status::<E>(&d, DestructionStatus::Approved));
        }
        refuse_if_held(x, &d.hold_keys)?;
        swap(
            x,
            &d,
            DestructionStatus::Executing,
            ", executed_by = $3, executed_at = $4",
            &[by.into(), now.into()],
        )?;
        current(x, id)
    }

    pub(crate) fn finish_destruction<E: Exec>(
        x: &mut E,
        id: i64,
        executed: bool,
        outcome: &str,
        certificate: Option<&str>,
        now: UnixTime,
    ) -> R<Destruction, E> {
        let d = current(x, id)?;
        if d.status != DestructionStatus::Executing {
            return Err(wrong_status::<E>(&d, DestructionStatus::Executing));
        }
        if executed && certificate.is_none() {
            return Err(conflict::<E>(
                "a destruction is executed only with its certificate".into(),
            ));
        }
        let to = if executed {
            DestructionStatus::Executed
        } else {
            DestructionStatus::Failed
        };
        swap(
            x,
            &d,
            to,
            ", executed_at = $3, outcome = $4, certificate = $5",
            &[now.into(), outcome.into(), certificate.into()],
        )?;
        current(x, id)
    }

    pub(crate) fn place_hold<E: Exec>(x: &mut E, h: &LegalHold) -> R<i64, E> {
        let rows = x.rows(
            "INSERT INTO legal_holds (hold_key, scope, label, reason, placed_by, placed_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                (&h.hold_key).into(),
                (&h.scope).into(),
                (&h.label).into(),
                (&h.reason).into(),
                (&h.placed_by).into(),
                h.placed_at.into(),
            ],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| bad("place hold", "no id returned"))?;
        Ok(Cols(row).int(0)?)
    }

    fn hold<E: Exec>(x: &mut E, id: i64) -> R<LegalHold, E> {
        let rows = x.rows(
            &format!("SELECT {HOLD_COLUMNS} FROM legal_holds WHERE id = $1"),
            &[id.into()],
        )?;
        match rows.first() {
            Some(r) => Ok(hold_from(r)?),
            None => Err(PlatformStoreError::NotFound {
                kind: "legal_hold",
                id: id.to_string(),
            }
            .into()),
        }
    }

    pub(crate) fn release_hold<E: Exec>(
        x: &mut E,
        id: i64,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> R<LegalHold, E> {
        let h = hold(x, id)?;
        if h.released_at.is_some() {
            return Err(conflict::<E>(format!(
                "法律保全 {id} 已解除 (legal hold {id} is already released)"
            )));
        }
        if note.trim().is_empty() {
            return Err(conflict::<E>(
                "解除保全须填写说明 (releasing a hold needs a note)".into(),
            ));
        }
        let changed = x.exec(
            "UPDATE legal_holds SET released_by = $2, released_at = $3, release_note = $4 \
             WHERE id = $1 AND released_at IS NULL",
            &[id.into(), by.into(), now.into(), note.into()],
        )?;
        if changed == 0 {
            return Err(conflict::<E>(format!(
                "法律保全 {id} 已解除 (legal hold {id} is already released)"
            )));
        }
        hold(x, id)
    }

    pub(crate) fn legal_holds<E: Exec>(x: &mut E, active_only: bool) -> R<Vec<LegalHold>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {HOLD_COLUMNS} FROM legal_holds \
                 WHERE ($1 = 0 OR released_at IS NULL) ORDER BY id DESC"
            ),
            &[i64::from(active_only).into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| hold_from(r))
            .collect::<Result<_, _>>()?)
    }
}
