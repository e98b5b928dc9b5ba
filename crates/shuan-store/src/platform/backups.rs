//! Backup plans, the archives they made and restore drills (备份与恢复演练, R-10).
//!
//! A plan's backup and drill due times are each moved on by compare-and-set before the
//! work is done ([`BackupPlanStore::claim_plan_backup`], [`BackupPlanStore::claim_plan_drill`]),
//! so on several nodes each due time runs once and a time missed while every node was
//! down runs once. An archive is a file on the node that made it; the store keeps where
//! it is, its SM3 and size, and when the plan's retention removed it. A drill is stored
//! when it ends. [`BackupPlanStore`] is a supertrait of [`super::PlatformStore`]; both
//! backends run the one implementation in this file.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// One plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPlan {
    /// Id (assigned by the store).
    pub id: i64,
    /// Name, unique.
    pub name: String,
    /// Back up every this many hours.
    pub backup_interval_hours: i64,
    /// Archives kept (the newest).
    pub retention: i64,
    /// Drill a restore every this many hours.
    pub drill_interval_hours: i64,
    /// When the next backup is due.
    pub next_backup_at: UnixTime,
    /// When the next drill is due.
    pub next_drill_at: UnixTime,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// One archive a plan made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanBackup {
    /// Id (assigned by the store).
    pub id: i64,
    /// The plan.
    pub plan_id: i64,
    /// The node whose data directory holds it.
    pub node: String,
    /// Its path there.
    pub archive: String,
    /// When it was made.
    pub created_at: UnixTime,
    /// SM3 of the archive file, hex.
    pub archive_sm3: String,
    /// Files in it.
    pub files: i64,
    /// Bytes of tar data.
    pub bytes: i64,
    /// When the plan's retention removed it.
    pub pruned_at: Option<UnixTime>,
}

/// One restore drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreDrill {
    /// Id (assigned by the store).
    pub id: i64,
    /// The plan, when the drill was one of a plan's.
    pub plan_id: Option<i64>,
    /// The node it ran on.
    pub node: String,
    /// The archive drilled.
    pub archive: String,
    /// When it started.
    pub started_at: UnixTime,
    /// How long it took.
    pub duration_ms: i64,
    /// Whether everything restored and checked.
    pub passed: bool,
    /// Files restored.
    pub files: Option<i64>,
    /// Their bytes.
    pub file_bytes: Option<i64>,
    /// Content digest of the restored tree.
    pub tree_sm3: Option<String>,
    /// SM3 of the archive.
    pub archive_sm3: Option<String>,
    /// Why a failed drill failed.
    pub error: Option<String>,
    /// The account, or `scheduler`.
    pub run_by: String,
    /// The alert a failure raised.
    pub alert_id: Option<i64>,
}

/// The backup plan records; a supertrait of [`super::PlatformStore`].
pub trait BackupPlanStore {
    /// Saves a plan (its `id` is not read); answers its id (`Exists` for a taken name).
    fn create_backup_plan(&self, p: &BackupPlan) -> Result<i64, PlatformStoreError>;
    /// One plan.
    fn backup_plan(&self, id: i64) -> Result<Option<BackupPlan>, PlatformStoreError>;
    /// Plans by name.
    fn backup_plans(&self) -> Result<Vec<BackupPlan>, PlatformStoreError>;
    /// Moves a plan's `next_backup_at` from `due` to `next` if it still is `due`: true
    /// when this caller won the backup.
    fn claim_plan_backup(
        &self,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> Result<bool, PlatformStoreError>;
    /// The same for `next_drill_at`.
    fn claim_plan_drill(
        &self,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> Result<bool, PlatformStoreError>;
    /// Records an archive a plan made; answers its id.
    fn record_plan_backup(&self, b: &PlanBackup) -> Result<i64, PlatformStoreError>;
    /// A plan's archives, newest first (pruned ones too).
    fn plan_backups(&self, plan_id: i64) -> Result<Vec<PlanBackup>, PlatformStoreError>;
    /// Marks an archive removed by retention.
    fn mark_plan_backup_pruned(&self, id: i64, at: UnixTime) -> Result<(), PlatformStoreError>;
    /// Records a drill; answers its id.
    fn record_restore_drill(&self, d: &RestoreDrill) -> Result<i64, PlatformStoreError>;
    /// Drills, newest first, of one plan or of all; at most `limit`.
    fn restore_drills(
        &self,
        plan_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<RestoreDrill>, PlatformStoreError>;
}

/// Implements [`BackupPlanStore`] for a backend (see `delegate_to_ops`).
macro_rules! backup_plan_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::BackupPlanStore, $backend, $exec, backups {
            write "save backup plan" fn create_backup_plan(p: &$crate::platform::BackupPlan) -> i64;
            read "read backup plan" fn backup_plan(id: i64) -> Option<$crate::platform::BackupPlan>;
            read "list backup plans" fn backup_plans() -> Vec<$crate::platform::BackupPlan>;
            write "claim plan backup" fn claim_plan_backup(id: i64, due: $crate::platform::UnixTime, next: $crate::platform::UnixTime) -> bool;
            write "claim plan drill" fn claim_plan_drill(id: i64, due: $crate::platform::UnixTime, next: $crate::platform::UnixTime) -> bool;
            write "record plan backup" fn record_plan_backup(b: &$crate::platform::PlanBackup) -> i64;
            read "list plan backups" fn plan_backups(plan_id: i64) -> Vec<$crate::platform::PlanBackup>;
            write "prune plan backup" fn mark_plan_backup_pruned(id: i64, at: $crate::platform::UnixTime) -> ();
            write "record restore drill" fn record_restore_drill(d: &$crate::platform::RestoreDrill) -> i64;
            read "list restore drills" fn restore_drills(plan_id: Option<i64>, limit: i64) -> Vec<$crate::platform::RestoreDrill>;
        });
    };
}
pub(crate) use backup_plan_store_for;

/// The one implementation of [`BackupPlanStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const PLAN_COLUMNS: &str = "id, name, backup_interval_hours, retention, drill_interval_hours, \
         next_backup_at, next_drill_at, created_by, created_at";
    const BACKUP_COLUMNS: &str =
        "id, plan_id, node, archive, created_at, archive_sm3, files, bytes, pruned_at";
    const DRILL_COLUMNS: &str = "id, plan_id, node, archive, started_at, duration_ms, status, \
         files, file_bytes, tree_sm3, archive_sm3, error, run_by, alert_id";

    fn plan_from(r: &[Val]) -> Result<BackupPlan, PlatformStoreError> {
        let c = Cols(r);
        Ok(BackupPlan {
            id: c.int(0)?,
            name: c.text(1)?,
            backup_interval_hours: c.int(2)?,
            retention: c.int(3)?,
            drill_interval_hours: c.int(4)?,
            next_backup_at: c.int(5)?,
            next_drill_at: c.int(6)?,
            created_by: c.text(7)?,
            created_at: c.int(8)?,
        })
    }

    fn backup_from(r: &[Val]) -> Result<PlanBackup, PlatformStoreError> {
        let c = Cols(r);
        Ok(PlanBackup {
            id: c.int(0)?,
            plan_id: c.int(1)?,
            node: c.text(2)?,
            archive: c.text(3)?,
            created_at: c.int(4)?,
            archive_sm3: c.text(5)?,
            files: c.int(6)?,
            bytes: c.int(7)?,
            pruned_at: c.opt_int(8)?,
        })
    }

    fn drill_from(r: &[Val]) -> Result<RestoreDrill, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(6)?;
        Ok(RestoreDrill {
            id: c.int(0)?,
            plan_id: c.opt_int(1)?,
            node: c.text(2)?,
            archive: c.text(3)?,
            started_at: c.int(4)?,
            duration_ms: c.int(5)?,
            passed: match status.as_str() {
                "passed" => true,
                "failed" => false,
                other => {
                    return Err(bad(
                        "decode restore drill",
                        format!("unknown status {other:?}"),
                    ))
                }
            },
            files: c.opt_int(7)?,
            file_bytes: c.opt_int(8)?,
            tree_sm3: c.opt_text(9)?,
            archive_sm3: c.opt_text(10)?,
            error: c.opt_text(11)?,
            run_by: c.text(12)?,
            alert_id: c.opt_int(13)?,
        })
    }

    pub(crate) fn create_backup_plan<E: Exec>(x: &mut E, p: &BackupPlan) -> R<i64, E> {
        let inserted = x.rows(
            "INSERT INTO backup_plans (name, backup_interval_hours, retention, \
             drill_interval_hours, next_backup_at, next_drill_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                (&p.name).into(),
                p.backup_interval_hours.into(),
                p.retention.into(),
                p.drill_interval_hours.into(),
                p.next_backup_at.into(),
                p.next_drill_at.into(),
                (&p.created_by).into(),
                p.created_at.into(),
            ],
        );
        match inserted {
            Ok(rows) => {
                let row = rows
                    .first()
                    .ok_or_else(|| bad("save backup plan", "no id returned"))?;
                Ok(Cols(row).int(0)?)
            }
            Err(e) if E::is_unique_violation(&e) => Err(PlatformStoreError::Exists {
                kind: "backup plan",
                id: p.name.clone(),
            }
            .into()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn backup_plan<E: Exec>(x: &mut E, id: i64) -> R<Option<BackupPlan>, E> {
        let rows = x.rows(
            &format!("SELECT {PLAN_COLUMNS} FROM backup_plans WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| plan_from(r)).transpose()?)
    }

    pub(crate) fn backup_plans<E: Exec>(x: &mut E) -> R<Vec<BackupPlan>, E> {
        let rows = x.rows(
            &format!("SELECT {PLAN_COLUMNS} FROM backup_plans ORDER BY name"),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| plan_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn claim_plan_backup<E: Exec>(
        x: &mut E,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> R<bool, E> {
        let changed = x.exec(
            "UPDATE backup_plans SET next_backup_at = $3 WHERE id = $1 AND next_backup_at = $2",
            &[id.into(), due.into(), next.into()],
        )?;
        Ok(changed == 1)
    }

    pub(crate) fn claim_plan_drill<E: Exec>(
        x: &mut E,
        id: i64,
        due: UnixTime,
        next: UnixTime,
    ) -> R<bool, E> {
        let changed = x.exec(
            "UPDATE backup_plans SET next_drill_at = $3 WHERE id = $1 AND next_drill_at = $2",
            &[id.into(), due.into(), next.into()],
        )?;
        Ok(changed == 1)
    }

    pub(crate) fn record_plan_backup<E: Exec>(x: &mut E, b: &PlanBackup) -> R<i64, E> {
        let rows = x.rows(
            "INSERT INTO plan_backups (plan_id, node, archive, created_at, archive_sm3, files, \
             bytes) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                b.plan_id.into(),
                (&b.node).into(),
                (&b.archive).into(),
                b.created_at.into(),
                (&b.archive_sm3).into(),
                b.files.into(),
                b.bytes.into(),
            ],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| bad("record plan backup", "no id returned"))?;
        Ok(Cols(row).int(0)?)
    }

    pub(crate) fn plan_backups<E: Exec>(x: &mut E, plan_id: i64) -> R<Vec<PlanBackup>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {BACKUP_COLUMNS} FROM plan_backups WHERE plan_id = $1 ORDER BY id DESC"
            ),
            &[plan_id.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| backup_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn mark_plan_backup_pruned<E: Exec>(x: &mut E, id: i64, at: UnixTime) -> R<(), E> {
        x.exec(
            "UPDATE plan_backups SET pruned_at = $2 WHERE id = $1 AND pruned_at IS NULL",
            &[id.into(), at.into()],
        )?;
        Ok(())
    }

    pub(crate) fn record_restore_drill<E: Exec>(x: &mut E, d: &RestoreDrill) -> R<i64, E> {
        let rows = x.rows(
            "INSERT INTO restore_drills (plan_id, node, archive, started_at, duration_ms, \
             status, files, file_bytes, tree_sm3, archive_sm3, error, run_by, alert_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            &[
                d.plan_id.into(),
                (&d.node).into(),
                (&d.archive).into(),
                d.started_at.into(),
                d.duration_ms.into(),
                if d.passed { "passed" } else { "failed" }.into(),
                d.files.into(),
                d.file_bytes.into(),
                (&d.tree_sm3).into(),
                (&d.archive_sm3).into(),
                (&d.error).into(),
                (&d.run_by).into(),
                d.alert_id.into(),
            ],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| bad("record restore drill", "no id returned"))?;
        Ok(Cols(row).int(0)?)
    }

    pub(crate) fn restore_drills<E: Exec>(
        x: &mut E,
        plan_id: Option<i64>,
        limit: i64,
    ) -> R<Vec<RestoreDrill>, E> {
        let rows = match plan_id {
            Some(id) => x.rows(
                &format!(
                    "SELECT {DRILL_COLUMNS} FROM restore_drills WHERE plan_id = $1 \
                     ORDER BY id DESC LIMIT $2"
                ),
                &[id.into(), limit.into()],
            )?,
            None => x.rows(
                &format!("SELECT {DRILL_COLUMNS} FROM restore_drills ORDER BY id DESC LIMIT $1"),
                &[limit.into()],
            )?,
        };
        Ok(rows
            .iter()
            .map(|r| drill_from(r))
            .collect::<Result<_, _>>()?)
    }
}
