//! The incident records' contract (issue 13, R-34): one suite against `&dyn PlatformStore`
//! on SQLite and on the real PostgreSQL (see `common`): an incident moves responding →
//! response ended → closed and never back, the supplementary report falls due 15 days
//! after the response ends and is overdue from that second until it is in, closing needs
//! it and the lessons, each step is once, every change is on the timeline in order, and of
//! two concurrent ends of a response exactly one wins.

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(
    an_incident_runs_its_course_on_its_timeline,
    the_supplementary_report_is_due_fifteen_days_after_the_response,
    steps_happen_once_and_in_order,
    concurrent_ends_of_a_response_end_it_once,
    incidents_survive_reopening,
);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;
    const DAY: i64 = 86_400;

    fn incident(title: &str) -> Incident {
        Incident {
            id: 0,
            title: title.into(),
            grade: "larger".into(),
            department: "P".into(),
            description: "数据共享接口被批量调用，疑似数据泄露".into(),
            occurred_at: NOW - 3600,
            handler: "secadmin".into(),
            alerts: vec![3, 5],
            audit_refs: vec!["req-1".into()],
            status: IncidentStatus::Closed, // not read: filed responding
            reported_by: "secadmin".into(),
            reported_at: NOW,
            supervisor_reported_by: Some("ignored".into()),
            supervisor_reported_at: None,
            response_ended_at: None,
            supplementary_due: Some(1),
            supplementary_report: None,
            supplementary_by: None,
            supplementary_at: None,
            lessons: None,
            closed_by: None,
            closed_at: None,
        }
    }

    fn conflict_text<T: std::fmt::Debug>(r: Result<T, PlatformStoreError>) -> String {
        match r {
            Err(PlatformStoreError::Conflict(m)) => m,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    pub fn an_incident_runs_its_course_on_its_timeline(f: &Fixture) {
        let s = &*f.store;
        let id = s.create_incident(&incident("接口批量调用")).unwrap();
        let i = s.incident(id).unwrap().unwrap();
        assert_eq!(i.status, IncidentStatus::Responding);
        assert_eq!(i.alerts, [3, 5]);
        assert_eq!(i.audit_refs, ["req-1"]);
        assert_eq!(i.supervisor_reported_by, None);
        assert_eq!(i.supplementary_due, None);
        s.add_incident_note(id, "secadmin", "已暂停相关协议", NOW + 60)
            .unwrap();
        s.report_incident_to_supervisor(id, "secadmin", "已电话报告市数据局", NOW + 120)
            .unwrap();
        let i = s
            .end_incident_response(id, "secadmin", "处置完毕", NOW + DAY)
            .unwrap();
        assert_eq!(i.status, IncidentStatus::ResponseEnded);
        assert_eq!(i.supervisor_reported_at, Some(NOW + 120));
        s.submit_incident_supplementary(
            id,
            "secadmin",
            "补充报告：原因、影响、整改",
            NOW + 2 * DAY,
        )
        .unwrap();
        let i = s
            .close_incident(id, "secadmin", "加强接口调用频率限制", NOW + 3 * DAY)
            .unwrap();
        assert_eq!(i.status, IncidentStatus::Closed);
        assert_eq!(i.closed_at, Some(NOW + 3 * DAY));
        let kinds: Vec<String> = s
            .incident_events(id)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "reported",
                "note",
                "supervisor_reported",
                "response_ended",
                "supplementary",
                "closed"
            ]
        );
        // Closed is final: no more notes.
        conflict_text(s.add_incident_note(id, "secadmin", "补记", NOW + 4 * DAY));
        assert_eq!(s.incidents(Some(IncidentStatus::Closed)).unwrap().len(), 1);
        assert_eq!(
            s.incidents(Some(IncidentStatus::Responding)).unwrap().len(),
            0
        );
    }

    pub fn the_supplementary_report_is_due_fifteen_days_after_the_response(f: &Fixture) {
        let s = &*f.store;
        let late = s.create_incident(&incident("迟报")).unwrap();
        let on_time = s.create_incident(&incident("按时")).unwrap();
        let open = s.create_incident(&incident("处置中")).unwrap();
        for id in [late, on_time] {
            let i = s
                .end_incident_response(id, "secadmin", "结束", NOW)
                .unwrap();
            assert_eq!(i.supplementary_due, Some(NOW + 15 * DAY));
        }
        // Due at the second: not overdue one second before, overdue at it.
        assert!(s.overdue_incidents(NOW + 15 * DAY - 1).unwrap().is_empty());
        s.submit_incident_supplementary(on_time, "secadmin", "按时补报", NOW + 15 * DAY - 1)
            .unwrap();
        let overdue: Vec<i64> = s
            .overdue_incidents(NOW + 15 * DAY)
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(overdue, [late]);
        let i = s.incident(late).unwrap().unwrap();
        assert!(i.overdue_at(NOW + 15 * DAY) && !i.overdue_at(NOW + 15 * DAY - 1));
        // A late report is still taken, and ends the overdue state.
        s.submit_incident_supplementary(late, "secadmin", "迟到的补报", NOW + 20 * DAY)
            .unwrap();
        assert!(s.overdue_incidents(NOW + 30 * DAY).unwrap().is_empty());
        let _ = open;
    }

    pub fn steps_happen_once_and_in_order(f: &Fixture) {
        let s = &*f.store;
        let id = s.create_incident(&incident("顺序")).unwrap();
        // Not before the response ended.
        conflict_text(s.submit_incident_supplementary(id, "secadmin", "过早", NOW));
        conflict_text(s.close_incident(id, "secadmin", "过早", NOW));
        // Empty texts are refused.
        conflict_text(s.end_incident_response(id, "secadmin", "  ", NOW));
        s.report_incident_to_supervisor(id, "secadmin", "上报", NOW)
            .unwrap();
        conflict_text(s.report_incident_to_supervisor(id, "secadmin", "再报", NOW));
        s.end_incident_response(id, "secadmin", "结束", NOW)
            .unwrap();
        conflict_text(s.end_incident_response(id, "secadmin", "再结束", NOW));
        // Closing needs the supplementary report first.
        let m = conflict_text(s.close_incident(id, "secadmin", "教训", NOW));
        assert!(m.contains("补充报告"), "{m}");
        s.submit_incident_supplementary(id, "secadmin", "补报", NOW)
            .unwrap();
        conflict_text(s.submit_incident_supplementary(id, "secadmin", "再补报", NOW));
        conflict_text(s.close_incident(id, "secadmin", "", NOW));
        s.close_incident(id, "secadmin", "教训", NOW).unwrap();
        conflict_text(s.close_incident(id, "secadmin", "教训", NOW));
        assert!(matches!(
            s.end_incident_response(999_999, "secadmin", "x", NOW),
            Err(PlatformStoreError::NotFound { .. })
        ));
    }

    pub fn concurrent_ends_of_a_response_end_it_once(f: &Fixture) {
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        let id = f.store.create_incident(&incident("并发")).unwrap();
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let s = stores[i % 2];
                    scope.spawn(move || {
                        s.end_incident_response(id, &format!("node{i}"), "结束", NOW + i as i64)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{results:?}");
        assert!(results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(PlatformStoreError::Conflict(_)))));
        let ended = f
            .store
            .incident_events(id)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "response_ended")
            .count();
        assert_eq!(ended, 1);
    }

    pub fn incidents_survive_reopening(f: &Fixture) {
        let id = f.store.create_incident(&incident("重开")).unwrap();
        f.store
            .end_incident_response(id, "secadmin", "结束", NOW)
            .unwrap();
        let again = f.second_handle();
        assert_eq!(
            again.incident(id).unwrap().unwrap(),
            f.store.incident(id).unwrap().unwrap()
        );
        assert_eq!(again.incident_events(id).unwrap().len(), 2);
    }
}
