//! The backup plan records' contract (issue 13, R-10) on SQLite and the real PostgreSQL
//! (see `common`): plans keep their schedule, names are unique, each due time (backup and
//! drill apart) is claimed once of many callers on two handles, archives are listed newest
//! first and pruned once, drills are kept passed or failed, newest first.

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(
    plans_archives_and_drills_are_kept,
    due_times_are_claimed_once,
);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;

    fn plan(name: &str) -> BackupPlan {
        BackupPlan {
            id: 0,
            name: name.into(),
            backup_interval_hours: 24,
            retention: 2,
            drill_interval_hours: 168,
            next_backup_at: NOW,
            next_drill_at: NOW + 168 * 3600,
            created_by: "sysadmin".into(),
            created_at: NOW,
        }
    }

    fn archive(plan_id: i64, n: i64) -> PlanBackup {
        PlanBackup {
            id: 0,
            plan_id,
            node: "node-a".into(),
            archive: format!("/data/files/backups/plan-{plan_id}-{n}.shuanbak"),
            created_at: NOW + n,
            archive_sm3: format!("{n:064}"),
            files: 7,
            bytes: 4096,
            pruned_at: Some(1), // not read: recorded kept
        }
    }

    pub fn plans_archives_and_drills_are_kept(f: &Fixture) {
        let s = &*f.store;
        let id = s.create_backup_plan(&plan("每日")).unwrap();
        assert_eq!(
            s.backup_plan(id).unwrap().unwrap(),
            BackupPlan {
                id, ..plan("每日")
            }
        );
        assert!(matches!(
            s.create_backup_plan(&plan("每日")),
            Err(PlatformStoreError::Exists { .. })
        ));
        let a1 = s.record_plan_backup(&archive(id, 1)).unwrap();
        let a2 = s.record_plan_backup(&archive(id, 2)).unwrap();
        let list = s.plan_backups(id).unwrap();
        assert_eq!(list.iter().map(|b| b.id).collect::<Vec<_>>(), [a2, a1]);
        assert!(list.iter().all(|b| b.pruned_at.is_none()));
        s.mark_plan_backup_pruned(a1, NOW + 5).unwrap();
        s.mark_plan_backup_pruned(a1, NOW + 9).unwrap();
        let list = s.plan_backups(id).unwrap();
        assert_eq!(list[1].pruned_at, Some(NOW + 5), "pruned once");
        let drill = |passed: bool| RestoreDrill {
            id: 0,
            plan_id: Some(id),
            node: "node-a".into(),
            archive: list[0].archive.clone(),
            started_at: NOW,
            duration_ms: 1234,
            passed,
            files: passed.then_some(7),
            file_bytes: passed.then_some(4000),
            tree_sm3: passed.then(|| "ab".repeat(32)),
            archive_sm3: Some(list[0].archive_sm3.clone()),
            error: (!passed).then(|| "signature does not verify".to_string()),
            run_by: "scheduler".into(),
            alert_id: (!passed).then_some(3),
        };
        let d1 = s.record_restore_drill(&drill(true)).unwrap();
        let d2 = s.record_restore_drill(&drill(false)).unwrap();
        let drills = s.restore_drills(Some(id), 10).unwrap();
        assert_eq!(drills.iter().map(|d| d.id).collect::<Vec<_>>(), [d2, d1]);
        assert_eq!(
            drills[0],
            RestoreDrill {
                id: d2,
                ..drill(false)
            }
        );
        assert_eq!(
            drills[1],
            RestoreDrill {
                id: d1,
                ..drill(true)
            }
        );
        assert_eq!(s.restore_drills(None, 1).unwrap().len(), 1);
    }

    pub fn due_times_are_claimed_once(f: &Fixture) {
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        let id = f.store.create_backup_plan(&plan("claims")).unwrap();
        for drill in [false, true] {
            let due = if drill { NOW + 168 * 3600 } else { NOW };
            let won: Vec<bool> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|i| {
                        let s = stores[i % 2];
                        scope.spawn(move || {
                            if drill {
                                s.claim_plan_drill(id, due, due + 1).unwrap()
                            } else {
                                s.claim_plan_backup(id, due, due + 1).unwrap()
                            }
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
        }
        let p = f.store.backup_plan(id).unwrap().unwrap();
        assert_eq!(p.next_backup_at, NOW + 1);
        assert_eq!(p.next_drill_at, NOW + 168 * 3600 + 1);
    }
}
