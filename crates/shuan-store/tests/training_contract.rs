//! The training records' contract (issue 13, R-36) on SQLite and the real PostgreSQL (see
//! `common`): a session is kept with its attendance, an unknown account or department is
//! refused with nothing written, and each account's last passed training is the latest
//! session it passed (failed evaluations do not count).

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(sessions_and_last_passes_are_kept,);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;

    fn seed(s: &dyn PlatformStore) {
        s.create_department(&Department {
            code: "P".into(),
            name: "部门P".into(),
            parent: None,
            created_at: NOW,
        })
        .unwrap();
        for name in ["a", "b", "c"] {
            s.create_user(&User {
                username: name.into(),
                display_name: name.into(),
                department: "P".into(),
                vendor: false,
                contract_end: None,
                password_hash: "x".into(),
                password_changed_at: NOW,
                must_change_password: false,
                totp: None,
                disabled: false,
                created_at: NOW,
                last_login_at: None,
            })
            .unwrap();
        }
    }

    fn session(held_at: UnixTime, attendees: &[(&str, Option<i64>, bool)]) -> TrainingSession {
        TrainingSession {
            id: 0,
            title: "数据安全培训".into(),
            topic: "分类分级".into(),
            department: "P".into(),
            held_at,
            trainer: "王老师".into(),
            attendees: attendees
                .iter()
                .map(|(u, score, passed)| Attendance {
                    username: (*u).into(),
                    score: *score,
                    passed: *passed,
                })
                .collect(),
            created_by: "secadmin".into(),
            created_at: NOW,
        }
    }

    pub fn sessions_and_last_passes_are_kept(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let first = session(NOW - 100, &[("a", Some(90), true), ("b", Some(30), false)]);
        let id1 = s.create_training_session(&first).unwrap();
        let id2 = s
            .create_training_session(&session(NOW, &[("a", None, true), ("c", Some(60), true)]))
            .unwrap();
        let list = s.training_sessions().unwrap();
        assert_eq!(list.iter().map(|x| x.id).collect::<Vec<_>>(), [id2, id1]);
        assert_eq!(list[1], TrainingSession { id: id1, ..first });
        assert_eq!(
            s.last_passed_training().unwrap(),
            vec![("a".to_string(), NOW), ("c".to_string(), NOW)]
        );
        // An unknown account: refused, nothing written.
        assert!(matches!(
            s.create_training_session(&session(NOW, &[("a", None, true), ("zz", None, true)])),
            Err(PlatformStoreError::NotFound { .. })
        ));
        let mut other = session(NOW, &[("a", None, true)]);
        other.department = "NOPE".into();
        assert!(matches!(
            s.create_training_session(&other),
            Err(PlatformStoreError::NotFound { .. })
        ));
        assert_eq!(s.training_sessions().unwrap().len(), 2);
    }
}
