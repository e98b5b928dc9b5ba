//! The governance records' contract (issue 13): one suite against `&dyn PlatformStore`,
//! run on SQLite and on the real PostgreSQL (see `common`): a target has one live
//! destruction, holds refuse a request and stop an approved one, nobody decides their
//! own, a rejection needs its reason, of concurrent executions exactly one begins, an
//! executed destruction needs its certificate, and released holds release.

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(
    a_target_has_one_live_destruction,
    holds_refuse_requests_and_stop_execution,
    decisions_are_by_others_once_with_reasons,
    concurrent_executions_begin_once,
    executed_needs_a_certificate_and_failed_is_final,
    governance_records_survive_reopening,
);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;

    fn destruction(target_key: &str, hold_keys: &[&str]) -> Destruction {
        Destruction {
            id: 0,
            target: format!(r#"{{"kind":"table","key":"{target_key}"}}"#),
            target_key: target_key.into(),
            hold_keys: hold_keys.iter().map(|k| k.to_string()).collect(),
            department: Some("P".into()),
            label: "数据源 czj 的数据表 public.tmp".into(),
            method: "drop_table".into(),
            reason: "测试副本到期 (R-27)".into(),
            status: DestructionStatus::Executed, // not read: filed pending
            requested_by: "steward".into(),
            requested_at: NOW,
            matched: Some(12),
            decided_by: Some("ignored".into()),
            decided_at: None,
            decision_note: None,
            executed_by: None,
            executed_at: None,
            outcome: None,
            certificate: None,
        }
    }

    fn hold(key: &str) -> LegalHold {
        LegalHold {
            id: 0,
            hold_key: key.into(),
            scope: r#"{"kind":"source","source":"czj"}"#.into(),
            label: "数据源 czj 的全部数据".into(),
            reason: "（2026）浙0102民初123号".into(),
            placed_by: "secadmin".into(),
            placed_at: NOW,
            released_by: None,
            released_at: None,
            release_note: None,
        }
    }

    fn conflict_text<T: std::fmt::Debug>(r: Result<T, PlatformStoreError>) -> String {
        match r {
            Err(PlatformStoreError::Conflict(m)) => m,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    pub fn a_target_has_one_live_destruction(f: &Fixture) {
        let s = &*f.store;
        let id = s
            .create_destruction(&destruction("table:czj/public.tmp", &["source:czj"]))
            .unwrap();
        let d = s.destruction(id).unwrap().unwrap();
        assert_eq!(d.status, DestructionStatus::Pending);
        assert_eq!(d.decided_by, None);
        assert_eq!(d.hold_keys, ["source:czj"]);
        assert_eq!(d.matched, Some(12));
        let m = conflict_text(
            s.create_destruction(&destruction("table:czj/public.tmp", &["source:czj"])),
        );
        assert!(m.contains(&format!("销毁单 {id}")), "{m}");
        // Rejected, it may be asked again; executed, never.
        s.decide_destruction(id, false, "cdo", Some("理由不足"), NOW)
            .unwrap();
        let again = s
            .create_destruction(&destruction("table:czj/public.tmp", &["source:czj"]))
            .unwrap();
        s.decide_destruction(again, true, "cdo", None, NOW).unwrap();
        s.begin_destruction(again, "secadmin", NOW).unwrap();
        s.finish_destruction(again, true, "{}", Some("{\"cert\":1}"), NOW + 5)
            .unwrap();
        let m = conflict_text(
            s.create_destruction(&destruction("table:czj/public.tmp", &["source:czj"])),
        );
        assert!(m.contains("already destroyed"), "{m}");
        // Another target is another matter.
        s.create_destruction(&destruction("table:czj/public.tmp2", &["source:czj"]))
            .unwrap();
        assert_eq!(s.destructions(None).unwrap().len(), 3);
        assert_eq!(
            s.destructions(Some(DestructionStatus::Executed))
                .unwrap()
                .iter()
                .map(|d| d.id)
                .collect::<Vec<_>>(),
            [again]
        );
    }

    pub fn holds_refuse_requests_and_stop_execution(f: &Fixture) {
        let s = &*f.store;
        let early = s
            .create_destruction(&destruction("table:czj/a", &["source:czj", "table:czj/a"]))
            .unwrap();
        s.decide_destruction(early, true, "cdo", None, NOW).unwrap();
        let h = s.place_hold(&hold("table:czj/a")).unwrap();
        // A hold placed after approval still stops the execution.
        let m = conflict_text(s.begin_destruction(early, "secadmin", NOW));
        assert!(m.contains("法律保全") && m.contains(&h.to_string()), "{m}");
        assert_eq!(
            s.destruction(early).unwrap().unwrap().status,
            DestructionStatus::Approved
        );
        // And refuses new requests for what it covers, not for the rest.
        conflict_text(
            s.create_destruction(&destruction("rows:czj/a?x", &["source:czj", "table:czj/a"])),
        );
        s.create_destruction(&destruction("table:czj/b", &["source:czj", "table:czj/b"]))
            .unwrap();
        assert_eq!(s.legal_holds(true).unwrap().len(), 1);
        // Releasing needs a note, happens once, and lets the execution go on.
        conflict_text(s.release_hold(h, "secadmin", " ", NOW));
        let released = s.release_hold(h, "secadmin", "案件已结", NOW + 1).unwrap();
        assert_eq!(released.released_at, Some(NOW + 1));
        conflict_text(s.release_hold(h, "secadmin", "again", NOW + 2));
        assert!(s.legal_holds(true).unwrap().is_empty());
        assert_eq!(s.legal_holds(false).unwrap().len(), 1);
        assert_eq!(
            s.begin_destruction(early, "secadmin", NOW + 3)
                .unwrap()
                .status,
            DestructionStatus::Executing
        );
        assert!(matches!(
            s.release_hold(999, "x", "y", NOW),
            Err(PlatformStoreError::NotFound { .. })
        ));
    }

    pub fn decisions_are_by_others_once_with_reasons(f: &Fixture) {
        let s = &*f.store;
        let id = s
            .create_destruction(&destruction("key:mask/v1", &["key:mask"]))
            .unwrap();
        let m = conflict_text(s.decide_destruction(id, true, "steward", None, NOW));
        assert!(m.contains("own"), "{m}");
        conflict_text(s.decide_destruction(id, false, "cdo", Some("  "), NOW));
        // Not approved yet: cannot begin.
        conflict_text(s.begin_destruction(id, "secadmin", NOW));
        let d = s
            .decide_destruction(id, true, "cdo", Some("同意"), NOW + 1)
            .unwrap();
        assert_eq!(d.status, DestructionStatus::Approved);
        assert_eq!(d.decided_by.as_deref(), Some("cdo"));
        assert_eq!(d.decision_note.as_deref(), Some("同意"));
        let m = conflict_text(s.decide_destruction(id, false, "cdo2", Some("晚了"), NOW));
        assert!(m.contains("approved"), "{m}");
        assert!(matches!(
            s.decide_destruction(4242, true, "cdo", None, NOW),
            Err(PlatformStoreError::NotFound { .. })
        ));
    }

    pub fn concurrent_executions_begin_once(f: &Fixture) {
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        let id = f
            .store
            .create_destruction(&destruction("table:czj/race", &[]))
            .unwrap();
        f.store
            .decide_destruction(id, true, "cdo", None, NOW)
            .unwrap();
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let s = stores[i % 2];
                    scope.spawn(move || s.begin_destruction(id, &format!("node{i}"), NOW))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        assert!(results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(PlatformStoreError::Conflict(_)))));
        assert_eq!(
            f.store.destruction(id).unwrap().unwrap().executed_by,
            won[0].executed_by
        );
    }

    pub fn executed_needs_a_certificate_and_failed_is_final(f: &Fixture) {
        let s = &*f.store;
        let id = s
            .create_destruction(&destruction("table:czj/c", &[]))
            .unwrap();
        conflict_text(s.finish_destruction(id, false, "{}", None, NOW));
        s.decide_destruction(id, true, "cdo", None, NOW).unwrap();
        s.begin_destruction(id, "secadmin", NOW).unwrap();
        conflict_text(s.finish_destruction(id, true, "{}", None, NOW));
        let d = s
            .finish_destruction(
                id,
                false,
                r#"{"destroyed":[],"not_destroyed":["c"]}"#,
                None,
                NOW + 9,
            )
            .unwrap();
        assert_eq!(d.status, DestructionStatus::Failed);
        assert_eq!(d.certificate, None);
        assert_eq!(d.executed_at, Some(NOW + 9));
        assert!(d.outcome.unwrap().contains("not_destroyed"));
        conflict_text(s.begin_destruction(id, "secadmin", NOW));
        conflict_text(s.finish_destruction(id, true, "{}", Some("{}"), NOW));
        // Failed frees the target for a new request.
        s.create_destruction(&destruction("table:czj/c", &[]))
            .unwrap();
    }

    pub fn governance_records_survive_reopening(f: &Fixture) {
        let id = f
            .store
            .create_destruction(&destruction("key:k/v2", &["key:k", "key:k/v2"]))
            .unwrap();
        let h = f.store.place_hold(&hold("key:other")).unwrap();
        let again = f.second_handle();
        assert_eq!(
            again.destruction(id).unwrap().unwrap(),
            f.store.destruction(id).unwrap().unwrap()
        );
        assert_eq!(again.legal_holds(true).unwrap()[0].id, h);
    }
}
