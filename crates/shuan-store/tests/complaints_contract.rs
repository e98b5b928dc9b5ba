//! The complaint records' contract (issue 13, R-37) on SQLite and the real PostgreSQL (see
//! `common`): the sealed identity is stored and read back byte for byte (an anonymous
//! complaint has none), a complaint is reassigned until it is handled, handled once and
//! only by its handler, and of concurrent handlings exactly one wins.

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(
    sealed_identities_are_kept_byte_for_byte,
    only_the_handler_handles_and_only_once,
    concurrent_handlings_handle_once,
);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;

    fn complaint(sealed: Option<Vec<u8>>, account: &str) -> Complaint {
        Complaint {
            id: 0,
            department: "P".into(),
            subject: "违规查询".into(),
            details: "反映窗口人员私自查询参保信息".into(),
            channel: "hotline".into(),
            reporter_sealed: sealed,
            seal_account: account.into(),
            status: ComplaintStatus::Handled, // not read: filed received
            received_by: "secadmin".into(),
            received_at: NOW,
            handler: Some("ignored".into()),
            assigned_by: None,
            assigned_at: None,
            result: None,
            handled_at: None,
        }
    }

    fn conflict<T: std::fmt::Debug>(r: Result<T, PlatformStoreError>) {
        assert!(matches!(r, Err(PlatformStoreError::Conflict(_))), "{r:?}");
    }

    pub fn sealed_identities_are_kept_byte_for_byte(f: &Fixture) {
        let s = &*f.store;
        let sealed: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
        let id = s
            .create_complaint(&complaint(Some(sealed.clone()), "a"))
            .unwrap();
        let anon = s.create_complaint(&complaint(None, "b")).unwrap();
        let c = s.complaint(id).unwrap().unwrap();
        assert_eq!(c.reporter_sealed.as_deref(), Some(&sealed[..]));
        assert_eq!(c.status, ComplaintStatus::Received);
        assert_eq!(c.handler, None);
        assert_eq!(s.complaint(anon).unwrap().unwrap().reporter_sealed, None);
        assert_eq!(
            s.complaints()
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>(),
            [anon, id]
        );
        // The seal's name is unique: a copy cannot be filed under it again.
        assert!(s.create_complaint(&complaint(None, "a")).is_err());
        // Debug never shows the sealed bytes.
        assert!(!format!("{c:?}").contains("255"));
    }

    pub fn only_the_handler_handles_and_only_once(f: &Fixture) {
        let s = &*f.store;
        let id = s.create_complaint(&complaint(None, "c")).unwrap();
        conflict(s.handle_complaint(id, "h1", "结果", NOW));
        s.assign_complaint(id, "h1", "secadmin", NOW).unwrap();
        let c = s.assign_complaint(id, "h2", "secadmin", NOW + 1).unwrap();
        assert_eq!(c.handler.as_deref(), Some("h2"));
        conflict(s.handle_complaint(id, "h1", "结果", NOW));
        conflict(s.handle_complaint(id, "h2", "  ", NOW));
        let c = s.handle_complaint(id, "h2", "已办结", NOW + 2).unwrap();
        assert_eq!(c.status, ComplaintStatus::Handled);
        assert_eq!(c.handled_at, Some(NOW + 2));
        conflict(s.handle_complaint(id, "h2", "再办", NOW));
        conflict(s.assign_complaint(id, "h3", "secadmin", NOW));
        assert!(matches!(
            s.assign_complaint(999_999, "h", "secadmin", NOW),
            Err(PlatformStoreError::NotFound { .. })
        ));
    }

    pub fn concurrent_handlings_handle_once(f: &Fixture) {
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        let id = f.store.create_complaint(&complaint(None, "d")).unwrap();
        f.store.assign_complaint(id, "h", "secadmin", NOW).unwrap();
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let s = stores[i % 2];
                    scope.spawn(move || s.handle_complaint(id, "h", &format!("结果{i}"), NOW))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
    }
}
