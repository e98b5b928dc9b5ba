//! The platform store's contract: one suite, written against `&dyn PlatformStore`, run on
//! SQLite (a file in a temporary directory) and on PostgreSQL (a fresh schema per test in
//! the database named by SHUAN_TEST_POSTGRES, dropped afterwards, so tests run in
//! parallel). A PostgreSQL test fails if the server is unreachable while the variable is
//! set; unset when the tests were built, it is ignored (`build.rs` sets the cfg) so the
//! skip is visible.

use serde_json::json;
use shuan_access::{DataScope, Grant, GrantError, Role};
use shuan_store::platform::postgres::PgPlatform;
use shuan_store::platform::sqlite::SqlitePlatform;
use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(
    backend_and_ping,
    departments_tree,
    department_deletion_refusals,
    accounts,
    passwords_and_history,
    totp_steps_only_move_forward,
    concurrent_totp_step_is_taken_once,
    grants_and_separation_of_duties,
    concurrent_conflicting_grants_at_most_one,
    elevations,
    concurrent_decisions_decide_once,
    sessions_expiry_and_touch,
    session_listing_and_ending,
    login_failures,
    purge_of_expired_sessions_and_old_failures,
    api_keys,
    settings,
    policies_and_generation,
    jobs,
    audit_mirror,
    checkpoints,
    alerts_filed_once_per_key,
    alert_listing_filters,
    alert_handling_lifecycle,
    concurrent_alert_handlers_one_wins,
    alert_evidence_reads_the_copied_records,
    two_handles_see_each_other,
    reopening_keeps_records,
);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;

    fn dept(code: &str, parent: Option<&str>) -> Department {
        Department {
            code: code.into(),
            name: format!("部门{code}"),
            parent: parent.map(str::to_string),
            created_at: NOW,
        }
    }

    fn user(name: &str, department: &str, vendor: bool) -> User {
        User {
            username: name.into(),
            display_name: format!("姓名{name}"),
            department: department.into(),
            vendor,
            contract_end: vendor.then(|| "2027-06-30".to_string()),
            password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${name}-hash"),
            password_changed_at: NOW,
            must_change_password: true,
            totp: None,
            disabled: false,
            created_at: NOW,
            last_login_at: None,
        }
    }

    fn grant(role: Role, department: &str) -> Grant {
        Grant {
            role,
            department: department.into(),
            scope: DataScope::OwnDepartment,
        }
    }

    /// A root department `D1` with a user `alice` in it.
    fn seed(s: &dyn PlatformStore) {
        s.create_department(&dept("D1", None)).unwrap();
        s.create_user(&user("alice", "D1", false)).unwrap();
    }

    fn is_not_found(r: Result<impl std::fmt::Debug, PlatformStoreError>, kind: &str) -> bool {
        matches!(r, Err(PlatformStoreError::NotFound { kind: k, .. }) if k == kind)
    }

    fn is_exists(r: Result<impl std::fmt::Debug, PlatformStoreError>, kind: &str) -> bool {
        matches!(r, Err(PlatformStoreError::Exists { kind: k, .. }) if k == kind)
    }

    fn conflict_message(r: Result<impl std::fmt::Debug, PlatformStoreError>) -> String {
        match r {
            Err(PlatformStoreError::Conflict(m)) => m,
            other => panic!("expected Conflict, got {other:?}"),
        }
    }

    fn grant_code(r: Result<impl std::fmt::Debug, PlatformStoreError>) -> &'static str {
        match r {
            Err(PlatformStoreError::Grant(e)) => e.code(),
            other => panic!("expected a grant refusal, got {other:?}"),
        }
    }

    pub fn backend_and_ping(f: &Fixture) {
        let s = &*f.store;
        assert!(matches!(s.backend(), "sqlite" | "postgres"));
        s.ping().unwrap();
    }

    pub fn departments_tree(f: &Fixture) {
        let s = &*f.store;
        assert_eq!(s.departments().unwrap(), vec![]);
        s.create_department(&dept("B", None)).unwrap();
        s.create_department(&dept("A", Some("B"))).unwrap();
        s.create_department(&dept("C", Some("A"))).unwrap();
        assert!(is_exists(
            s.create_department(&dept("A", None)),
            "department"
        ));
        assert!(is_not_found(
            s.create_department(&dept("X", Some("missing"))),
            "department"
        ));
        assert_eq!(s.department("A").unwrap(), Some(dept("A", Some("B"))));
        assert_eq!(s.department("missing").unwrap(), None);
        let codes: Vec<String> = s
            .departments()
            .unwrap()
            .into_iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(codes, ["A", "B", "C"], "ordered by code");

        let renamed = s.update_department("A", Some("新名称"), None).unwrap();
        assert_eq!(renamed.name, "新名称");
        assert_eq!(renamed.parent.as_deref(), Some("B"));
        assert_eq!(s.department("A").unwrap().unwrap().name, "新名称");

        // B → A → C: moving B under C or under itself closes a loop.
        for target in ["C", "A", "B"] {
            let m = conflict_message(s.update_department("B", None, Some(Some(target))));
            assert!(m.contains("cycle"), "{m}");
        }
        assert_eq!(
            s.department("B").unwrap().unwrap().parent,
            None,
            "unchanged"
        );
        assert!(is_not_found(
            s.update_department("B", None, Some(Some("missing"))),
            "department"
        ));
        assert!(is_not_found(
            s.update_department("missing", Some("x"), None),
            "department"
        ));

        // C to the top, then B under C: no cycle any more.
        let c = s.update_department("C", None, Some(None)).unwrap();
        assert_eq!(c.parent, None);
        let b = s.update_department("B", None, Some(Some("C"))).unwrap();
        assert_eq!(b.parent.as_deref(), Some("C"));
        assert_eq!(
            s.department("B").unwrap().unwrap().parent.as_deref(),
            Some("C")
        );
    }

    pub fn department_deletion_refusals(f: &Fixture) {
        let s = &*f.store;
        s.create_department(&dept("P", None)).unwrap();
        s.create_department(&dept("K", Some("P"))).unwrap();
        s.create_department(&dept("M", None)).unwrap();
        s.create_department(&dept("G", None)).unwrap();
        s.create_department(&dept("AK", None)).unwrap();
        s.create_department(&dept("HOME", None)).unwrap();
        s.create_user(&user("bob", "M", false)).unwrap();
        s.create_user(&user("carol", "HOME", false)).unwrap();
        s.add_grant("carol", &grant(Role::DataUser, "G"), "sec", NOW)
            .unwrap();
        s.create_api_key(&api_key("k1", "AK")).unwrap();

        for (code, why) in [
            ("P", "child departments"),
            ("M", "accounts"),
            ("G", "role grants"),
            ("AK", "API keys"),
        ] {
            let m = conflict_message(s.delete_department(code));
            assert!(m.contains(why) && m.contains(code), "{m}");
            assert!(s.department(code).unwrap().is_some());
        }
        assert!(is_not_found(s.delete_department("missing"), "department"));
        s.delete_department("K").unwrap();
        s.delete_department("P").unwrap();
        assert_eq!(s.department("P").unwrap(), None);
        assert!(is_not_found(s.delete_department("P"), "department"));
    }

    pub fn accounts(f: &Fixture) {
        let s = &*f.store;
        s.create_department(&dept("D1", None)).unwrap();
        s.create_department(&dept("D2", None)).unwrap();
        let mut zed = user("zed", "D1", true);
        zed.totp = Some(TotpRecord {
            secret_enc: vec![0, 1, 2, 255],
            confirmed: true,
            last_step: Some(42),
        });
        zed.last_login_at = Some(NOW - 5);
        s.create_user(&zed).unwrap();
        s.create_user(&user("amy", "D2", false)).unwrap();
        assert!(is_exists(s.create_user(&user("amy", "D1", false)), "user"));
        assert!(is_not_found(
            s.create_user(&user("nobody", "missing", false)),
            "department"
        ));
        assert_eq!(s.user("zed").unwrap(), Some(zed.clone()), "round trip");
        assert_eq!(s.user("missing").unwrap(), None);
        let names: Vec<String> = s.users().unwrap().into_iter().map(|u| u.username).collect();
        assert_eq!(names, ["amy", "zed"]);

        let u = s
            .update_user(
                "zed",
                &UserUpdate {
                    display_name: Some("新姓名".into()),
                    department: Some("D2".into()),
                    disabled: Some(true),
                    contract_end: Some(None),
                },
            )
            .unwrap();
        assert_eq!(u.display_name, "新姓名");
        assert_eq!(u.department, "D2");
        assert!(u.disabled);
        assert_eq!(u.contract_end, None);
        assert_eq!(s.user("zed").unwrap(), Some(u.clone()));
        // An empty update changes nothing.
        assert_eq!(s.update_user("zed", &UserUpdate::default()).unwrap(), u);
        assert!(is_not_found(
            s.update_user(
                "zed",
                &UserUpdate {
                    department: Some("missing".into()),
                    ..UserUpdate::default()
                }
            ),
            "department"
        ));
        assert_eq!(s.user("zed").unwrap().unwrap().department, "D2");
        assert!(is_not_found(
            s.update_user("missing", &UserUpdate::default()),
            "user"
        ));

        s.touch_login("amy", NOW + 9).unwrap();
        assert_eq!(s.user("amy").unwrap().unwrap().last_login_at, Some(NOW + 9));
        assert!(is_not_found(s.touch_login("missing", NOW), "user"));
    }

    pub fn passwords_and_history(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let first = s.user("alice").unwrap().unwrap().password_hash;
        s.set_password("alice", "h2", false, NOW + 1, 2).unwrap();
        let u = s.user("alice").unwrap().unwrap();
        assert_eq!(u.password_hash, "h2");
        assert_eq!(u.password_changed_at, NOW + 1);
        assert!(!u.must_change_password);
        assert_eq!(s.password_history("alice").unwrap(), vec![first.clone()]);
        s.set_password("alice", "h3", false, NOW + 2, 2).unwrap();
        s.set_password("alice", "h4", true, NOW + 3, 2).unwrap();
        assert_eq!(
            s.password_history("alice").unwrap(),
            ["h3", "h2"],
            "newest first, two deep"
        );
        assert!(s.user("alice").unwrap().unwrap().must_change_password);
        s.set_password("alice", "h5", false, NOW + 4, 0).unwrap();
        assert!(s.password_history("alice").unwrap().is_empty());
        assert!(s.password_history("missing").unwrap().is_empty());
        let e = s
            .set_password("missing", "secret-hash", false, NOW, 3)
            .unwrap_err();
        assert!(matches!(
            e,
            PlatformStoreError::NotFound { kind: "user", .. }
        ));
        assert!(!e.to_string().contains("secret-hash"), "{e}");
        // Debug of an account never shows its hash.
        assert!(!format!("{:?}", s.user("alice").unwrap()).contains("h5"));
    }

    pub fn totp_steps_only_move_forward(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        s.create_user(&user("bob", "D1", false)).unwrap();
        let m = conflict_message(s.advance_totp_step("alice", 5));
        assert!(m.contains("TOTP"), "{m}");
        assert!(is_not_found(s.advance_totp_step("missing", 5), "user"));
        assert!(is_not_found(s.set_totp("missing", b"x"), "user"));
        assert!(is_not_found(s.confirm_totp("missing", 1), "user"));

        s.set_totp("alice", b"sealed-seed").unwrap();
        let t = s.user("alice").unwrap().unwrap().totp.unwrap();
        assert_eq!(t.secret_enc, b"sealed-seed");
        assert!(!t.confirmed);
        assert_eq!(t.last_step, None);

        assert!(s.confirm_totp("alice", 100).unwrap());
        let t = s.user("alice").unwrap().unwrap().totp.unwrap();
        assert!(t.confirmed);
        assert_eq!(t.last_step, Some(100));
        assert!(
            !s.confirm_totp("alice", 100).unwrap(),
            "replayed confirmation"
        );
        assert!(!s.advance_totp_step("alice", 100).unwrap(), "replay");
        assert!(!s.advance_totp_step("alice", 99).unwrap(), "older step");
        assert!(s.advance_totp_step("alice", 101).unwrap());
        assert_eq!(
            s.user("alice").unwrap().unwrap().totp.unwrap().last_step,
            Some(101)
        );
        // Another account's steps are its own.
        s.set_totp("bob", b"b").unwrap();
        assert!(s.advance_totp_step("bob", 50).unwrap());

        // Re-enrolment: unconfirmed again, and steps already used stay used.
        s.set_totp("alice", b"new-seed").unwrap();
        let t = s.user("alice").unwrap().unwrap().totp.unwrap();
        assert!(!t.confirmed);
        assert_eq!(t.secret_enc, b"new-seed");
        assert!(!s.confirm_totp("alice", 101).unwrap());
        assert!(!s.user("alice").unwrap().unwrap().totp.unwrap().confirmed);
        assert!(s.confirm_totp("alice", 102).unwrap());

        s.clear_totp("alice").unwrap();
        assert_eq!(s.user("alice").unwrap().unwrap().totp, None);
        assert!(is_not_found(s.clear_totp("missing"), "user"));
        s.set_totp("alice", b"third").unwrap();
        assert!(
            !s.advance_totp_step("alice", 102).unwrap(),
            "reset keeps used steps"
        );

        // A step beyond what the database holds is refused, not wrapped or a panic.
        assert!(matches!(
            s.advance_totp_step("alice", u64::MAX),
            Err(PlatformStoreError::Conflict(_))
        ));
    }

    pub fn concurrent_totp_step_is_taken_once(f: &Fixture) {
        seed(&*f.store);
        f.store.set_totp("alice", b"seed").unwrap();
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        for step in [1000u64, 1001, 1002] {
            let taken: Vec<bool> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..12)
                    .map(|i| {
                        let s = stores[i % 2];
                        scope.spawn(move || s.advance_totp_step("alice", step).unwrap())
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(
                taken.iter().filter(|t| **t).count(),
                1,
                "step {step}: {taken:?}"
            );
        }
    }

    pub fn grants_and_separation_of_duties(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        s.create_department(&dept("D2", None)).unwrap();
        s.create_user(&user("vic", "D1", true)).unwrap();

        let g = s
            .add_grant("alice", &grant(Role::SystemAdmin, "D1"), "root", NOW)
            .unwrap();
        assert_eq!(g.username, "alice");
        assert_eq!(g.grant, grant(Role::SystemAdmin, "D1"));
        assert_eq!(g.granted_by, "root");
        assert_eq!(g.granted_at, NOW);
        assert_eq!(s.grants("alice").unwrap(), vec![g.clone()]);

        for wanted in [Role::Auditor, Role::SecurityAdmin] {
            assert_eq!(
                grant_code(s.add_grant("alice", &grant(wanted, "D2"), "root", NOW)),
                "separation_of_duties"
            );
        }
        assert_eq!(
            grant_code(s.add_grant("alice", &grant(Role::SystemAdmin, "D1"), "root", NOW)),
            "duplicate_grant"
        );
        assert_eq!(
            grant_code(s.add_grant("vic", &grant(Role::ChiefDataOfficer, "D1"), "root", NOW)),
            "separation_of_duties"
        );
        assert_eq!(
            grant_code(s.add_grant("alice", &grant(Role::VendorOperator, "D1"), "root", NOW)),
            "separation_of_duties"
        );
        let empty = Grant {
            scope: DataScope::Chosen(Default::default()),
            ..grant(Role::DataUser, "D1")
        };
        assert_eq!(
            grant_code(s.add_grant("alice", &empty, "root", NOW)),
            "invalid_scope"
        );
        assert!(is_not_found(
            s.add_grant("missing", &grant(Role::DataUser, "D1"), "root", NOW),
            "user"
        ));
        assert!(is_not_found(
            s.add_grant("alice", &grant(Role::DataUser, "missing"), "root", NOW),
            "department"
        ));

        let chosen = Grant {
            role: Role::DataUser,
            department: "D2".into(),
            scope: DataScope::Chosen(["D2".to_string(), "D1".to_string()].into()),
        };
        let g2 = s.add_grant("alice", &chosen, "sec", NOW + 1).unwrap();
        let v = s
            .add_grant("vic", &grant(Role::VendorOperator, "D1"), "sec", NOW)
            .unwrap();
        assert_eq!(s.grants("alice").unwrap(), vec![g.clone(), g2.clone()]);
        assert_eq!(s.all_grants().unwrap(), vec![g.clone(), g2, v]);
        assert!(s.grants("missing").unwrap().is_empty());

        assert!(
            is_not_found(s.remove_grant("vic", g.id), "grant"),
            "not vic's"
        );
        assert!(is_not_found(s.remove_grant("alice", 999_999), "grant"));
        s.remove_grant("alice", g.id).unwrap();
        // Without the system administrator's role, the auditor's is allowed.
        s.add_grant("alice", &grant(Role::Auditor, "D1"), "root", NOW)
            .unwrap();
    }

    pub fn concurrent_conflicting_grants_at_most_one(f: &Fixture) {
        f.store.create_department(&dept("D1", None)).unwrap();
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        let roles = [Role::SystemAdmin, Role::Auditor, Role::SecurityAdmin];
        // Several accounts, each raced for by a dozen threads on two handles: one lucky
        // interleaving must not let a missing lock pass.
        for account in 0..6 {
            let name = format!("admin{account}");
            f.store.create_user(&user(&name, "D1", false)).unwrap();
            let results: Vec<Result<StoredGrant, PlatformStoreError>> =
                std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..12)
                        .map(|i| {
                            let s = stores[i % 2];
                            let g = grant(roles[i % 3], "D1");
                            let name = &name;
                            scope.spawn(move || s.add_grant(name, &g, "root", NOW))
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
            let granted = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(granted, 1, "{name}: {results:?}");
            for r in &results {
                if let Err(e) = r {
                    assert!(
                        matches!(
                            e,
                            PlatformStoreError::Grant(
                                GrantError::ThreeAdminConflict { .. } | GrantError::Duplicate
                            )
                        ),
                        "{e:?}"
                    );
                }
            }
            let held = f.store.grants(&name).unwrap();
            assert_eq!(held.len(), 1);
            assert!(shuan_access::grants_are_separated(
                false,
                &held.iter().map(|g| g.grant.clone()).collect::<Vec<_>>()
            ));
        }
    }

    fn elevation_request(username: &str, role: Role, duration_secs: i64) -> Elevation {
        Elevation {
            id: -1,
            username: username.into(),
            grant: grant(role, "D1"),
            reason: "值班".into(),
            duration_secs,
            requested_at: NOW,
            // Not read: a request is always filed pending.
            status: ElevationStatus::Approved,
            decided_by: Some("ignored".into()),
            decided_at: Some(1),
            decision_note: None,
            expires_at: Some(1),
        }
    }

    pub fn elevations(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        s.create_user(&user("bob", "D1", false)).unwrap();
        s.add_grant("bob", &grant(Role::Auditor, "D1"), "root", NOW)
            .unwrap();

        let a = s
            .request_elevation(&elevation_request("alice", Role::DataSteward, 3600))
            .unwrap();
        let b = s
            .request_elevation(&elevation_request("alice", Role::ChiefDataOfficer, 60))
            .unwrap();
        let c = s
            .request_elevation(&elevation_request("bob", Role::SystemAdmin, 60))
            .unwrap();
        assert!(is_not_found(
            s.request_elevation(&elevation_request("missing", Role::DataUser, 60)),
            "user"
        ));
        let pending = s.elevation(a).unwrap().unwrap();
        assert_eq!(pending.status, ElevationStatus::Pending);
        assert_eq!(pending.decided_by, None);
        assert_eq!(pending.expires_at, None);
        assert_eq!(pending.grant, grant(Role::DataSteward, "D1"));
        assert_eq!(pending.reason, "值班");
        assert_eq!(s.elevation(999_999).unwrap(), None);

        let ids = |v: Vec<Elevation>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(
            ids(s.elevations(None, None).unwrap()),
            [c, b, a],
            "newest first"
        );
        assert_eq!(ids(s.elevations(Some("alice"), None).unwrap()), [b, a]);
        assert_eq!(
            ids(s
                .elevations(Some("bob"), Some(ElevationStatus::Pending))
                .unwrap()),
            [c]
        );
        assert!(s
            .elevations(None, Some(ElevationStatus::Approved))
            .unwrap()
            .is_empty());

        let approved = s
            .decide_elevation(a, true, "cdo", Some("同意"), NOW + 10)
            .unwrap();
        assert_eq!(approved.status, ElevationStatus::Approved);
        assert_eq!(approved.decided_by.as_deref(), Some("cdo"));
        assert_eq!(approved.decided_at, Some(NOW + 10));
        assert_eq!(approved.decision_note.as_deref(), Some("同意"));
        assert_eq!(approved.expires_at, Some(NOW + 10 + 3600));
        assert_eq!(s.elevation(a).unwrap().unwrap(), approved);
        let m = conflict_message(s.decide_elevation(a, false, "cdo", None, NOW + 11));
        assert!(m.contains("approved"), "{m}");
        assert_eq!(s.elevation(a).unwrap().unwrap(), approved, "unchanged");

        let rejected = s
            .decide_elevation(b, false, "cdo", Some("理由不足"), NOW + 12)
            .unwrap();
        assert_eq!(rejected.status, ElevationStatus::Rejected);
        assert_eq!(rejected.expires_at, None);
        conflict_message(s.decide_elevation(b, true, "cdo", None, NOW + 13));
        assert!(is_not_found(
            s.decide_elevation(999_999, true, "cdo", None, NOW),
            "elevation"
        ));

        // An auditor elevated to system administrator would be two of the three.
        assert_eq!(
            grant_code(s.decide_elevation(c, true, "cdo", None, NOW)),
            "separation_of_duties"
        );
        assert_eq!(
            s.elevation(c).unwrap().unwrap().status,
            ElevationStatus::Pending
        );

        assert_eq!(ids(s.active_elevations("alice", NOW + 10).unwrap()), [a]);
        assert_eq!(ids(s.active_elevations("alice", NOW + 3609).unwrap()), [a]);
        assert!(s.active_elevations("alice", NOW + 3610).unwrap().is_empty());
        assert!(s.active_elevations("bob", NOW).unwrap().is_empty());
        assert_eq!(
            ids(s
                .elevations(Some("alice"), Some(ElevationStatus::Approved))
                .unwrap()),
            [a]
        );

        // While an elevation to security administrator is in force, the account cannot
        // also be granted the auditor's role; after it ends, it can.
        let d = s
            .request_elevation(&elevation_request("alice", Role::SecurityAdmin, 100))
            .unwrap();
        s.decide_elevation(d, true, "cdo", None, NOW).unwrap();
        assert_eq!(
            grant_code(s.add_grant("alice", &grant(Role::Auditor, "D1"), "root", NOW + 50)),
            "separation_of_duties"
        );
        s.add_grant("alice", &grant(Role::Auditor, "D1"), "root", NOW + 100)
            .unwrap();
        // A permanent grant of what an elevation lends for now is not a duplicate.
        s.add_grant("alice", &grant(Role::DataSteward, "D1"), "root", NOW + 100)
            .unwrap();
    }

    pub fn concurrent_decisions_decide_once(f: &Fixture) {
        seed(&*f.store);
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        for round in 0..4 {
            let id = f
                .store
                .request_elevation(&elevation_request("alice", Role::DataSteward, 60))
                .unwrap();
            let results: Vec<Result<Elevation, PlatformStoreError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|i| {
                        let s = stores[i % 2];
                        let approve = i % 2 == 0;
                        scope.spawn(move || {
                            s.decide_elevation(id, approve, &format!("cdo{i}"), None, NOW)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let decided: Vec<&Elevation> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(decided.len(), 1, "round {round}: {results:?}");
            assert!(results
                .iter()
                .filter(|r| r.is_err())
                .all(|r| matches!(r, Err(PlatformStoreError::Conflict(_)))));
            assert_eq!(&f.store.elevation(id).unwrap().unwrap(), decided[0]);
        }
    }

    fn session(token: &str, id: &str, username: &str, last_seen_at: UnixTime) -> Session {
        Session {
            token_hash: token.into(),
            id: id.into(),
            username: username.into(),
            kind: "browser".into(),
            created_at: last_seen_at,
            last_seen_at,
            expires_at: NOW + 8 * 3600,
            address: "10.0.0.8".into(),
            user_agent: Some("Mozilla/5.0".into()),
            restricted: true,
        }
    }

    pub fn sessions_expiry_and_touch(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let t = session("h1", "s1", "alice", NOW);
        s.create_session(&t).unwrap();
        assert!(is_exists(s.create_session(&t), "session"));
        assert!(is_exists(
            s.create_session(&session("h1", "s9", "alice", NOW)),
            "session"
        ));
        assert!(is_exists(
            s.create_session(&session("h9", "s1", "alice", NOW)),
            "session"
        ));
        assert!(is_not_found(
            s.create_session(&session("h2", "s2", "missing", NOW)),
            "user"
        ));
        assert_eq!(s.session_by_token("nope", NOW, 1800, 60).unwrap(), None);

        // Within the touch interval: answered, not written.
        let got = s.session_by_token("h1", NOW + 30, 1800, 60).unwrap();
        assert_eq!(got, Some(t.clone()));
        assert_eq!(
            s.session_by_token("h1", NOW + 60, 1800, 60)
                .unwrap()
                .unwrap()
                .last_seen_at,
            NOW
        );
        // Older than the interval: touched.
        let touched = s
            .session_by_token("h1", NOW + 61, 1800, 60)
            .unwrap()
            .unwrap();
        assert_eq!(touched.last_seen_at, NOW + 61);
        assert_eq!(
            s.session_by_token("h1", NOW + 62, 1800, 60)
                .unwrap()
                .unwrap()
                .last_seen_at,
            NOW + 61,
            "stored"
        );
        // Idle: alive until last seen + idle, gone from then on (and not revived).
        assert!(s
            .session_by_token("h1", NOW + 61 + 1799, 1800, 10_000)
            .unwrap()
            .is_some());
        assert_eq!(
            s.session_by_token("h1", NOW + 61 + 1800, 1800, 60).unwrap(),
            None
        );
        assert_eq!(
            s.session_by_token("h1", NOW + 62, 1800, 60)
                .unwrap()
                .unwrap()
                .last_seen_at,
            NOW + 61
        );

        // Absolute end, however recently seen.
        let mut short = session("h3", "s3", "alice", NOW);
        short.expires_at = NOW + 100;
        s.create_session(&short).unwrap();
        assert!(s
            .session_by_token("h3", NOW + 99, 1800, 0)
            .unwrap()
            .is_some());
        assert_eq!(s.session_by_token("h3", NOW + 100, 1800, 0).unwrap(), None);

        assert!(
            s.session_by_token("h1", NOW + 70, 1800, 60)
                .unwrap()
                .unwrap()
                .restricted
        );
        s.unrestrict_session("h1").unwrap();
        assert!(
            !s.session_by_token("h1", NOW + 70, 1800, 60)
                .unwrap()
                .unwrap()
                .restricted
        );
        let e = s.unrestrict_session("nope").unwrap_err();
        assert!(matches!(
            e,
            PlatformStoreError::NotFound {
                kind: "session",
                ..
            }
        ));
    }

    pub fn session_listing_and_ending(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        s.create_user(&user("bob", "D1", false)).unwrap();
        s.create_session(&session("a1", "sa1", "alice", NOW))
            .unwrap();
        s.create_session(&session("a2", "sa2", "alice", NOW - 1000))
            .unwrap();
        s.create_session(&session("b1", "sb1", "bob", NOW)).unwrap();
        let ids = |v: Vec<Session>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(
            ids(s.sessions(None, NOW, 1800).unwrap()),
            ["sa2", "sa1", "sb1"]
        );
        assert_eq!(
            ids(s.sessions(None, NOW, 900).unwrap()),
            ["sa1", "sb1"],
            "a2 idle"
        );
        assert_eq!(
            ids(s.sessions(Some("alice"), NOW, 1800).unwrap()),
            ["sa2", "sa1"]
        );
        assert!(s.sessions(Some("missing"), NOW, 1800).unwrap().is_empty());
        assert!(
            s.sessions(None, NOW + 9 * 3600, 100_000)
                .unwrap()
                .is_empty(),
            "expired"
        );

        assert!(s.delete_session("a1").unwrap());
        assert!(!s.delete_session("a1").unwrap());
        assert!(s.delete_session_by_id("sb1").unwrap());
        assert!(!s.delete_session_by_id("sb1").unwrap());
        s.create_session(&session("a3", "sa3", "alice", NOW))
            .unwrap();
        assert_eq!(s.delete_sessions_of("alice").unwrap(), 2);
        assert_eq!(s.delete_sessions_of("alice").unwrap(), 0);
        assert!(s.sessions(None, NOW, 1800).unwrap().is_empty());
    }

    /// Purging deletes exactly what `session_by_token` would no longer answer, and the
    /// failures before the cut-off; the rest stays, so a lockout still counts.
    pub fn purge_of_expired_sessions_and_old_failures(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let idle = 1800;
        let mut absolute = session("p1", "sp1", "alice", NOW);
        absolute.expires_at = NOW + 100;
        let cases = [
            (session("p0", "sp0", "alice", NOW), true),
            (absolute, false),
            (session("p2", "sp2", "alice", NOW + 100 - idle), false),
            (session("p3", "sp3", "alice", NOW + 101 - idle), true),
        ];
        for (session, _) in &cases {
            s.create_session(session).unwrap();
        }
        for (user, at) in [
            ("alice", NOW - 700),
            ("alice", NOW - 600),
            ("ghost", NOW - 599),
        ] {
            s.record_login_failure(user, "10.0.0.1", at).unwrap();
        }
        let purged = s.purge_expired(NOW + 100, idle, NOW - 599).unwrap();
        assert_eq!(
            purged,
            Purged {
                sessions: 2,
                failures: 2
            }
        );
        for (session, kept) in &cases {
            let stored = s
                .sessions(None, i64::MIN / 4, i64::MAX / 4)
                .unwrap()
                .iter()
                .any(|x| x.id == session.id);
            assert_eq!(stored, *kept, "{}", session.id);
            let alive = s
                .session_by_token(&session.token_hash, NOW + 100, idle, i64::MAX / 4)
                .unwrap()
                .is_some();
            assert_eq!(alive, *kept, "purge and lookup agree on {}", session.id);
        }
        assert_eq!(s.failures_for_address("10.0.0.1", 0).unwrap(), 1);
        assert_eq!(s.failures_for_user("ghost", 0).unwrap(), 1);
        assert_eq!(
            s.purge_expired(NOW + 100, idle, NOW - 599).unwrap(),
            Purged::default(),
            "nothing left to purge"
        );
    }

    pub fn login_failures(f: &Fixture) {
        let s = &*f.store;
        for (user, address, at) in [
            ("alice", "10.0.0.1", NOW),
            ("alice", "10.0.0.1", NOW + 10),
            ("alice", "10.0.0.2", NOW + 20),
            ("ghost", "10.0.0.1", NOW + 30), // an account that does not exist
        ] {
            s.record_login_failure(user, address, at).unwrap();
        }
        assert_eq!(s.failures_for_user("alice", NOW).unwrap(), 3);
        assert_eq!(
            s.failures_for_user("alice", NOW + 10).unwrap(),
            2,
            "since is inclusive"
        );
        assert_eq!(s.failures_for_user("alice", NOW + 21).unwrap(), 0);
        assert_eq!(s.failures_for_user("ghost", 0).unwrap(), 1);
        assert_eq!(s.failures_for_user("bob", 0).unwrap(), 0);
        assert_eq!(s.failures_for_address("10.0.0.1", NOW).unwrap(), 3);
        assert_eq!(s.failures_for_address("10.0.0.1", NOW + 11).unwrap(), 1);
        assert_eq!(s.failures_for_address("10.0.0.2", 0).unwrap(), 1);
        assert_eq!(s.failures_for_address("10.9.9.9", 0).unwrap(), 0);

        s.clear_failures_for_user("alice").unwrap();
        assert_eq!(s.failures_for_user("alice", 0).unwrap(), 0);
        assert_eq!(s.failures_for_user("ghost", 0).unwrap(), 1, "others kept");
        assert_eq!(
            s.failures_for_address("10.0.0.1", 0).unwrap(),
            3,
            "the address keeps its count"
        );
        s.record_login_failure("alice", "10.0.0.1", NOW + 40)
            .unwrap();
        assert_eq!(s.failures_for_user("alice", 0).unwrap(), 1);
        s.clear_failures_for_user("nobody").unwrap();
    }

    fn api_key(id: &str, department: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            key_hash: format!("hash-of-{id}"),
            name: "数据交换平台".into(),
            role: Role::DataUser,
            department: department.into(),
            scope: DataScope::Chosen(["D1".to_string()].into()),
            created_by: "sec".into(),
            created_at: NOW,
            expires_at: NOW + 86_400,
            revoked_at: None,
            last_used_at: None,
        }
    }

    pub fn api_keys(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let k1 = api_key("k1", "D1");
        s.create_api_key(&k1).unwrap();
        assert!(is_exists(s.create_api_key(&k1), "api_key"));
        let mut same_hash = api_key("k2", "D1");
        same_hash.key_hash = k1.key_hash.clone();
        assert!(is_exists(s.create_api_key(&same_hash), "api_key"));
        assert!(is_not_found(
            s.create_api_key(&api_key("k3", "missing")),
            "department"
        ));
        let k2 = api_key("k2", "D1");
        s.create_api_key(&k2).unwrap();

        assert_eq!(s.api_key_by_hash("hash-of-k1").unwrap(), Some(k1.clone()));
        assert_eq!(s.api_key_by_hash("nope").unwrap(), None);
        assert_eq!(s.api_keys().unwrap(), vec![k1.clone(), k2.clone()]);

        s.touch_api_key("k1", NOW + 100).unwrap();
        assert_eq!(
            s.api_key_by_hash("hash-of-k1")
                .unwrap()
                .unwrap()
                .last_used_at,
            Some(NOW + 100)
        );
        s.touch_api_key("k1", NOW + 130).unwrap();
        assert_eq!(
            s.api_key_by_hash("hash-of-k1")
                .unwrap()
                .unwrap()
                .last_used_at,
            Some(NOW + 100),
            "within a minute: not written"
        );
        s.touch_api_key("k1", NOW + 160).unwrap();
        assert_eq!(
            s.api_key_by_hash("hash-of-k1")
                .unwrap()
                .unwrap()
                .last_used_at,
            Some(NOW + 160)
        );
        assert!(is_not_found(s.touch_api_key("missing", NOW), "api_key"));

        s.revoke_api_key("k1", NOW + 200).unwrap();
        s.revoke_api_key("k1", NOW + 300).unwrap();
        let revoked = s.api_key_by_hash("hash-of-k1").unwrap().unwrap();
        assert_eq!(
            revoked.revoked_at,
            Some(NOW + 200),
            "the first revocation counts"
        );
        assert_eq!(
            s.api_key_by_hash("hash-of-k2").unwrap().unwrap().revoked_at,
            None
        );
        assert!(is_not_found(s.revoke_api_key("missing", NOW), "api_key"));
    }

    pub fn settings(f: &Fixture) {
        let s = &*f.store;
        assert_eq!(s.setting("password.min_length").unwrap(), None);
        s.set_setting("password.min_length", &json!(12), NOW)
            .unwrap();
        assert_eq!(s.setting("password.min_length").unwrap(), Some(json!(12)));
        let v = json!({"idle_minutes": 30, "名称": "数安", "list": [1, null, true]});
        s.set_setting("password.min_length", &v, NOW + 1).unwrap();
        assert_eq!(s.setting("password.min_length").unwrap(), Some(v));
        s.set_setting("other", &json!(null), NOW).unwrap();
        assert_eq!(s.setting("other").unwrap(), Some(json!(null)));
    }

    fn policy(id: &str) -> StoredPolicy {
        StoredPolicy {
            id: id.into(),
            text: "forbid(principal, action, resource) when { resource.level == \"核心\" };".into(),
            description: "核心数据不出域".into(),
            created_by: "sec".into(),
            created_at: NOW,
        }
    }

    pub fn policies_and_generation(f: &Fixture) {
        let s = &*f.store;
        let g0 = s.policy_generation().unwrap();
        assert!(s.policies().unwrap().is_empty());
        s.add_policy(&policy("p2")).unwrap();
        let g1 = s.policy_generation().unwrap();
        assert_ne!(g1, g0);
        assert!(is_exists(s.add_policy(&policy("p2")), "policy"));
        assert_eq!(
            s.policy_generation().unwrap(),
            g1,
            "a refused add changes nothing"
        );
        s.add_policy(&policy("p1")).unwrap();
        let g2 = s.policy_generation().unwrap();
        assert!(g2 != g1 && g2 != g0);
        assert_eq!(s.policies().unwrap(), vec![policy("p1"), policy("p2")]);
        s.remove_policy("p2").unwrap();
        let g3 = s.policy_generation().unwrap();
        assert!(![g0, g1, g2].contains(&g3));
        assert!(is_not_found(s.remove_policy("p2"), "policy"));
        assert_eq!(s.policy_generation().unwrap(), g3);
        assert_eq!(s.policies().unwrap(), vec![policy("p1")]);
    }

    fn job(owner: &str, kind: &str) -> Job {
        Job {
            id: 0,
            kind: kind.into(),
            owner: owner.into(),
            department: "D1".into(),
            status: "queued".into(),
            progress: None,
            params: json!({"source": "pg://db/hr"}),
            result: None,
            error: None,
            created_at: NOW,
            updated_at: NOW,
        }
    }

    pub fn jobs(f: &Fixture) {
        let s = &*f.store;
        let a = s.create_job(&job("alice", "scan")).unwrap();
        let b = s.create_job(&job("bob", "mask")).unwrap();
        let c = s.create_job(&job("alice", "backup")).unwrap();
        assert!(a < b && b < c);
        let stored = s.job(a).unwrap().unwrap();
        assert_eq!(
            stored,
            Job {
                id: a,
                ..job("alice", "scan")
            }
        );
        assert_eq!(s.job(999_999).unwrap(), None);

        let mut done = stored.clone();
        done.status = "succeeded".into();
        done.progress = Some(1.0);
        done.result = Some(json!({"tables": 3}));
        done.error = None;
        done.updated_at = NOW + 60;
        s.update_job(&done).unwrap();
        assert_eq!(s.job(a).unwrap().unwrap(), done);
        let mut failed = s.job(b).unwrap().unwrap();
        failed.status = "failed".into();
        failed.progress = Some(0.25);
        failed.error = Some("连接中断".into());
        s.update_job(&failed).unwrap();
        assert_eq!(s.job(b).unwrap().unwrap(), failed);
        assert!(is_not_found(
            s.update_job(&Job {
                id: 999_999,
                ..done.clone()
            }),
            "job"
        ));

        let ids = |v: Vec<Job>| v.into_iter().map(|j| j.id).collect::<Vec<_>>();
        assert_eq!(ids(s.jobs(None, 10).unwrap()), [c, b, a], "newest first");
        assert_eq!(ids(s.jobs(None, 2).unwrap()), [c, b]);
        assert_eq!(ids(s.jobs(None, 0).unwrap()), [c, b, a], "0: no limit");
        assert_eq!(ids(s.jobs(Some("alice"), 10).unwrap()), [c, a]);
        assert!(s.jobs(Some("nobody"), 10).unwrap().is_empty());
    }

    fn record(node: &str, seq: u64, time: UnixTime, actor: &str, action: &str) -> MirroredRecord {
        let outcome = if action == "login" {
            "denied"
        } else {
            "allowed"
        };
        MirroredRecord {
            node: node.into(),
            seq,
            time,
            actor: actor.into(),
            action: action.into(),
            outcome: outcome.into(),
            request_id: Some(format!("req-{node}-{seq}")),
            record_json: format!(
                r#"{{"seq":{seq},"action":"{action}","request_id":"req-{node}-{seq}","details":{{}}}}"#
            ),
        }
    }

    pub fn audit_mirror(f: &Fixture) {
        let s = &*f.store;
        assert_eq!(s.mirrored_upto("n1").unwrap(), 0);
        let none = s.audit_summary(0, i64::MAX).unwrap();
        assert_eq!((none.records_in_range, none.oldest_time), (0, None));
        s.mirror_records(&[]).unwrap();
        let batch = vec![
            record("n1", 1, NOW, "alice", "login"),
            record("n1", 2, NOW + 10, "alice", "scan"),
            record("n1", 3, NOW + 20, "bob", "export"),
            record("n2", 1, NOW + 5, "bob", "login"),
            record("n2", 2, NOW + 15, "carol", "scan"),
        ];
        s.mirror_records(&batch).unwrap();
        // Copying again (a node retrying after a lost answer) changes nothing, even if
        // the retried copy differs.
        let mut again = batch.clone();
        again[0].actor = "mallory".into();
        s.mirror_records(&again).unwrap();
        assert_eq!(s.mirrored_upto("n1").unwrap(), 3);
        assert_eq!(s.mirrored_upto("n2").unwrap(), 2);
        assert_eq!(s.mirrored_upto("n3").unwrap(), 0);

        // Aggregates for compliance evidence: every node counted, `until` excluded.
        let summary = s.audit_summary(NOW + 5, NOW + 20).unwrap();
        assert_eq!(summary.records_in_range, 3, "n2:1, n1:2, n2:2");
        assert_eq!(summary.oldest_time, Some(NOW));
        let before = s.audit_summary(NOW - 100, NOW).unwrap();
        assert_eq!(before.records_in_range, 0);

        let search = |f: AuditFilter| {
            s.audit_search(&f)
                .unwrap()
                .into_iter()
                .map(|r| format!("{}:{}", r.node, r.seq))
                .collect::<Vec<_>>()
        };
        let all = AuditFilter::default();
        assert_eq!(
            search(all.clone()),
            ["n1:3", "n2:2", "n1:2", "n2:1", "n1:1"]
        );
        assert_eq!(
            s.audit_search(&all).unwrap()[4],
            batch[0],
            "whole record kept"
        );
        assert_eq!(
            search(AuditFilter {
                node: Some("n2".into()),
                ..all.clone()
            }),
            ["n2:2", "n2:1"]
        );
        assert_eq!(
            search(AuditFilter {
                actor: Some("bob".into()),
                ..all.clone()
            }),
            ["n1:3", "n2:1"]
        );
        assert_eq!(
            search(AuditFilter {
                action: Some("scan".into()),
                ..all.clone()
            }),
            ["n2:2", "n1:2"]
        );
        assert_eq!(
            search(AuditFilter {
                outcome: Some("denied".into()),
                ..all.clone()
            }),
            ["n2:1", "n1:1"]
        );
        assert_eq!(
            search(AuditFilter {
                since: Some(NOW + 10),
                ..all.clone()
            }),
            ["n1:3", "n2:2", "n1:2"]
        );
        assert_eq!(
            search(AuditFilter {
                until: Some(NOW + 10),
                ..all.clone()
            }),
            ["n2:1", "n1:1"]
        );
        assert_eq!(
            search(AuditFilter {
                request_id: Some("req-n1-2".into()),
                ..all.clone()
            }),
            ["n1:2"]
        );
        assert_eq!(
            search(AuditFilter {
                limit: 2,
                ..all.clone()
            }),
            ["n1:3", "n2:2"]
        );
        assert_eq!(
            search(AuditFilter {
                limit: 2,
                offset: 2,
                ..all.clone()
            }),
            ["n1:2", "n2:1"]
        );
        assert_eq!(
            search(AuditFilter {
                offset: 4,
                ..all.clone()
            }),
            ["n1:1"]
        );
        assert_eq!(
            search(AuditFilter {
                node: Some("n1".into()),
                actor: Some("alice".into()),
                action: Some("scan".into()),
                outcome: Some("allowed".into()),
                since: Some(NOW),
                until: Some(NOW + 11),
                request_id: Some("req-n1-2".into()),
                limit: 10,
                offset: 0,
            }),
            ["n1:2"]
        );
        assert!(search(AuditFilter {
            actor: Some("nobody".into()),
            ..all.clone()
        })
        .is_empty());

        // A record that is not JSON is still copied (and found by everything but its
        // request id); a sequence number past i64 is refused, not wrapped.
        let mut odd = record("n3", 1, NOW, "x", "y");
        odd.record_json = "not json".into();
        s.mirror_records(&[odd]).unwrap();
        assert_eq!(
            search(AuditFilter {
                node: Some("n3".into()),
                ..all.clone()
            }),
            ["n3:1"]
        );
        assert!(matches!(
            s.mirror_records(&[record("n3", u64::MAX, NOW, "x", "y")]),
            Err(PlatformStoreError::Conflict(_))
        ));
        assert_eq!(s.mirrored_upto("n3").unwrap(), 1);
    }

    pub fn checkpoints(f: &Fixture) {
        let s = &*f.store;
        assert!(s.checkpoints(None).unwrap().is_empty());
        let cp = |node: &str, size: u64| MirroredCheckpoint {
            node: node.into(),
            size,
            checkpoint_json: format!(r#"{{"size":{size},"root":"ab"}}"#),
        };
        for c in [cp("n2", 5), cp("n1", 20), cp("n1", 10)] {
            s.mirror_checkpoint(&c).unwrap();
        }
        let mut changed = cp("n1", 10);
        changed.checkpoint_json = "{}".into();
        s.mirror_checkpoint(&changed).unwrap();
        assert_eq!(
            s.checkpoints(Some("n1")).unwrap(),
            vec![cp("n1", 10), cp("n1", 20)]
        );
        assert_eq!(
            s.checkpoints(None).unwrap(),
            vec![cp("n1", 10), cp("n1", 20), cp("n2", 5)]
        );
        assert!(s.checkpoints(Some("n9")).unwrap().is_empty());
    }

    fn stored_alert(
        key: &str,
        rule: &str,
        severity: &str,
        actor: &str,
        at: UnixTime,
    ) -> StoredAlert {
        StoredAlert {
            id: 0,
            key: key.into(),
            rule: rule.into(),
            label: "拒绝后成功".into(),
            severity: severity.into(),
            actor: actor.into(),
            department: Some("D1".into()),
            window_start: at - 600,
            window_end: at,
            fired_at: at,
            summary_zh: "多次被拒后成功".into(),
            summary_en: "got through after denials".into(),
            evidence: vec![
                AlertEvidence {
                    node: "n1".into(),
                    seq: 2,
                },
                AlertEvidence {
                    node: "n1".into(),
                    seq: 3,
                },
            ],
            evidence_count: 6,
            // Not read by insert_alert: a new alert is open, unhandled.
            status: AlertStatus::Closed,
            handled_by: Some("mallory".into()),
            note: Some("pre-closed".into()),
            updated_at: at,
        }
    }

    pub fn alerts_filed_once_per_key(f: &Fixture) {
        let s = &*f.store;
        let a = stored_alert(
            "after_denials:1:alice",
            "after_denials",
            "high",
            "alice",
            NOW,
        );
        let id = s.insert_alert(&a).unwrap().expect("a new key is filed");
        // The same key again (a replay after a restart, or another node): not filed, and
        // the first row is left as it was, even if the replayed alert differs.
        let mut again = a.clone();
        again.summary_en = "different".into();
        assert_eq!(s.insert_alert(&again).unwrap(), None);
        let got = s.alert(id).unwrap().unwrap();
        assert_eq!(got.status, AlertStatus::Open);
        assert_eq!(got.handled_by, None);
        assert_eq!(got.note, None);
        assert_eq!(got.summary_en, a.summary_en);
        assert_eq!(got.evidence, a.evidence);
        assert_eq!(got.evidence_count, 6);
        assert_eq!(got.department.as_deref(), Some("D1"));
        assert_eq!(s.alerts(&AlertFilter::default()).unwrap().len(), 1);
        // A second handle (another node) files the same key no more.
        let other = f.second_handle();
        assert_eq!(other.insert_alert(&a).unwrap(), None);
        let b = stored_alert(
            "after_denials:2:alice",
            "after_denials",
            "high",
            "alice",
            NOW,
        );
        let id2 = other.insert_alert(&b).unwrap().unwrap();
        assert_ne!(id, id2);
        assert!(s.alert(id2 + 100).unwrap().is_none());
        let mut bad = stored_alert("x:1:bob", "x", "urgent", "bob", NOW);
        bad.severity = "urgent".into();
        assert!(matches!(
            s.insert_alert(&bad),
            Err(PlatformStoreError::Conflict(_))
        ));
    }

    pub fn alert_listing_filters(f: &Fixture) {
        let s = &*f.store;
        let a = s
            .insert_alert(&stored_alert("a", "after_denials", "high", "alice", NOW))
            .unwrap()
            .unwrap();
        let b = s
            .insert_alert(&stored_alert(
                "b",
                "enumeration",
                "critical",
                "bob",
                NOW + 10,
            ))
            .unwrap()
            .unwrap();
        let c = s
            .insert_alert(&stored_alert("c", "off_hours", "medium", "alice", NOW + 20))
            .unwrap()
            .unwrap();
        s.acknowledge_alert(b, "sec", NOW + 30).unwrap();
        let ids = |f: AlertFilter| {
            s.alerts(&f)
                .unwrap()
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(AlertFilter::default()), [c, b, a]);
        let open = AlertFilter {
            status: Some(AlertStatus::Open),
            ..Default::default()
        };
        assert_eq!(ids(open), [c, a]);
        let acked = AlertFilter {
            status: Some(AlertStatus::Acknowledged),
            ..Default::default()
        };
        assert_eq!(ids(acked), [b]);
        let critical = AlertFilter {
            severity: Some("critical".into()),
            ..Default::default()
        };
        assert_eq!(ids(critical), [b]);
        let rule = AlertFilter {
            rule: Some("off_hours".into()),
            ..Default::default()
        };
        assert_eq!(ids(rule), [c]);
        let alice = AlertFilter {
            actor: Some("alice".into()),
            ..Default::default()
        };
        assert_eq!(ids(alice), [c, a]);
        let since = AlertFilter {
            since: Some(NOW + 10),
            ..Default::default()
        };
        assert_eq!(ids(since), [c, b]);
        let page = AlertFilter {
            limit: 1,
            offset: 1,
            ..Default::default()
        };
        assert_eq!(ids(page), [b]);
        let past = AlertFilter {
            limit: 5,
            offset: 3,
            ..Default::default()
        };
        assert!(ids(past).is_empty());
    }

    pub fn alert_handling_lifecycle(f: &Fixture) {
        let s = &*f.store;
        let id = s
            .insert_alert(&stored_alert("k", "after_denials", "high", "alice", NOW))
            .unwrap()
            .unwrap();
        let acked = s.acknowledge_alert(id, "sec1", NOW + 5).unwrap();
        assert_eq!(acked.status, AlertStatus::Acknowledged);
        assert_eq!(acked.handled_by.as_deref(), Some("sec1"));
        assert_eq!(acked, s.alert(id).unwrap().unwrap());
        // Acknowledged once only.
        assert!(matches!(
            s.acknowledge_alert(id, "sec2", NOW + 6),
            Err(PlatformStoreError::Conflict(_))
        ));
        // Closing needs a note.
        assert!(matches!(
            s.close_alert(id, "sec1", "  ", NOW + 7),
            Err(PlatformStoreError::Conflict(_))
        ));
        assert_eq!(
            s.alert(id).unwrap().unwrap().status,
            AlertStatus::Acknowledged
        );
        let closed = s
            .close_alert(id, "sec2", "已核实：测试账号", NOW + 8)
            .unwrap();
        assert_eq!(closed.status, AlertStatus::Closed);
        assert_eq!(closed.handled_by.as_deref(), Some("sec2"));
        assert_eq!(closed.note.as_deref(), Some("已核实：测试账号"));
        assert_eq!(closed.updated_at, NOW + 8);
        assert_eq!(closed, s.alert(id).unwrap().unwrap());
        // Closed is final.
        assert!(matches!(
            s.close_alert(id, "sec1", "again", NOW + 9),
            Err(PlatformStoreError::Conflict(_))
        ));
        assert!(matches!(
            s.acknowledge_alert(id, "sec1", NOW + 9),
            Err(PlatformStoreError::Conflict(_))
        ));
        assert_eq!(
            s.alert(id).unwrap().unwrap().note.as_deref(),
            Some("已核实：测试账号")
        );
        // An open alert can be closed directly.
        let id2 = s
            .insert_alert(&stored_alert("k2", "off_hours", "medium", "bob", NOW))
            .unwrap()
            .unwrap();
        assert_eq!(
            s.close_alert(id2, "sec1", "误报", NOW + 1).unwrap().status,
            AlertStatus::Closed
        );
        assert!(matches!(
            s.acknowledge_alert(999_999, "sec1", NOW),
            Err(PlatformStoreError::NotFound { kind: "alert", .. })
        ));
        assert!(matches!(
            s.close_alert(999_999, "sec1", "n", NOW),
            Err(PlatformStoreError::NotFound { kind: "alert", .. })
        ));
    }

    pub fn concurrent_alert_handlers_one_wins(f: &Fixture) {
        let id = f
            .store
            .insert_alert(&stored_alert("race", "enumeration", "critical", "bob", NOW))
            .unwrap()
            .unwrap();
        let handles: Vec<Box<dyn PlatformStore>> = (0..4).map(|_| f.second_handle()).collect();
        let barrier = std::sync::Barrier::new(handles.len());
        let results: Vec<Result<StoredAlert, PlatformStoreError>> = std::thread::scope(|scope| {
            let joins: Vec<_> = handles
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        barrier.wait();
                        h.close_alert(id, &format!("sec{i}"), &format!("note {i}"), NOW + 1)
                    })
                })
                .collect();
            joins.into_iter().map(|j| j.join().unwrap()).collect()
        });
        let won: Vec<&StoredAlert> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        for r in &results {
            if let Err(e) = r {
                assert!(matches!(e, PlatformStoreError::Conflict(_)), "{e:?}");
            }
        }
        // The stored row is the winner's: nobody's note overwrote it afterwards.
        let stored = f.store.alert(id).unwrap().unwrap();
        assert_eq!(stored.note, won[0].note);
        assert_eq!(stored.handled_by, won[0].handled_by);
    }

    pub fn alert_evidence_reads_the_copied_records(f: &Fixture) {
        let s = &*f.store;
        s.mirror_records(&[
            record("n1", 1, NOW, "alice", "session.login"),
            record("n1", 2, NOW + 1, "alice", "session.login"),
            record("n1", 3, NOW + 2, "alice", "session.login"),
        ])
        .unwrap();
        let mut a = stored_alert("ev", "after_denials", "high", "alice", NOW + 2);
        // n1:9 is not copied yet: left out.
        a.evidence.push(AlertEvidence {
            node: "n1".into(),
            seq: 9,
        });
        let id = s.insert_alert(&a).unwrap().unwrap();
        let records = s.alert_evidence(id).unwrap();
        let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [2, 3]);
        assert_eq!(records[0].time, NOW + 1);
        assert!(matches!(
            s.alert_evidence(id + 1),
            Err(PlatformStoreError::NotFound { kind: "alert", .. })
        ));
    }

    pub fn two_handles_see_each_other(f: &Fixture) {
        let a = &*f.store;
        let other = f.second_handle();
        let b = &*other;
        seed(a);
        assert_eq!(b.user("alice").unwrap().unwrap().username, "alice");
        b.add_grant("alice", &grant(Role::SystemAdmin, "D1"), "root", NOW)
            .unwrap();
        assert_eq!(
            grant_code(a.add_grant("alice", &grant(Role::Auditor, "D1"), "root", NOW)),
            "separation_of_duties"
        );
        a.create_session(&session("h", "s", "alice", NOW)).unwrap();
        assert!(b.session_by_token("h", NOW, 60, 60).unwrap().is_some());
        assert!(b.delete_session("h").unwrap());
        assert_eq!(a.session_by_token("h", NOW, 60, 60).unwrap(), None);
        let g = a.policy_generation().unwrap();
        b.add_policy(&policy("p")).unwrap();
        assert_ne!(a.policy_generation().unwrap(), g);
        a.set_totp("alice", b"s").unwrap();
        assert!(a.advance_totp_step("alice", 7).unwrap());
        assert!(
            !b.advance_totp_step("alice", 7).unwrap(),
            "replay on the other node"
        );
    }

    pub fn reopening_keeps_records(f: &Fixture) {
        seed(&*f.store);
        f.store
            .add_grant("alice", &grant(Role::Auditor, "D1"), "root", NOW)
            .unwrap();
        // Opening again runs the migrations again: they must find the schema current.
        let again = f.second_handle();
        assert_eq!(again.grants("alice").unwrap().len(), 1);
        assert_eq!(again.departments().unwrap().len(), 1);
    }
}

// Backend-specific behaviour: opening, migrations, URLs and errors.

#[test]
fn open_platform_picks_the_backend_from_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_platform(dir.path(), None).unwrap();
    assert_eq!(s.backend(), "sqlite");
    assert!(dir.path().join(PLATFORM_FILE).exists());

    let elsewhere = dir.path().join("sub").join("p.db");
    let s = open_platform(dir.path(), Some(&format!("sqlite:{}", elsewhere.display()))).unwrap();
    assert_eq!(s.backend(), "sqlite");
    assert!(elsewhere.exists());

    for url in [
        "mysql://root:s3cret@db/x",
        "s3cret",
        "s3cret:x",
        "",
        "sqlite:",
    ] {
        let e = open_platform(dir.path(), Some(url))
            .map(|_| ())
            .unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, PlatformStoreError::Unavailable(_)), "{m}");
        assert!(!m.contains("s3cret"), "{m}");
        if url.starts_with("mysql") {
            assert!(m.contains("`mysql`") && m.contains("postgres://"), "{m}");
        }
    }
}

#[test]
fn an_unreachable_postgres_is_unavailable_and_its_password_hidden() {
    // Port 1 on the loopback refuses at once.
    let e = PgPlatform::connect("postgres://shuan:s3cret@127.0.0.1:1/platform?connect_timeout=2")
        .map(|_| ())
        .unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, PlatformStoreError::Unavailable(_)), "{m}");
    assert!(!m.contains("s3cret"), "{m}");
    assert!(m.contains("postgres://shuan@127.0.0.1:1/platform"), "{m}");
}

#[test]
fn a_newer_sqlite_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PLATFORM_FILE);
    drop(SqlitePlatform::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO schema_version (version, name) VALUES (99, 'future')",
        [],
    )
    .unwrap();
    drop(conn);
    let e = SqlitePlatform::open(&path).map(|_| ()).unwrap_err();
    assert!(matches!(e, PlatformStoreError::Schema(_)), "{e}");
    assert!(e.to_string().contains("upgrade shuan"), "{e}");
}

#[cfg(unix)]
#[test]
fn a_new_sqlite_store_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PLATFORM_FILE);
    let s = SqlitePlatform::open(&path).unwrap();
    s.record_login_failure("a", "b", 1).unwrap();
    for file in [PLATFORM_FILE.to_string(), format!("{PLATFORM_FILE}-wal")] {
        let mode = std::fs::metadata(dir.path().join(&file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

#[test]
fn sqlite_stores_opened_at_once_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PLATFORM_FILE);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| SqlitePlatform::open(&path).map(|_| ())))
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    });
    let conn = rusqlite::Connection::open(&path).unwrap();
    // One row per migration (0001_platform, 0002_sharing, 0003_alerts), each applied once.
    let versions: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, MIGRATION_COUNT);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
#[cfg_attr(not(shuan_test_postgres), ignore = "needs SHUAN_TEST_POSTGRES")]
fn postgres_nodes_starting_at_once_migrate_once() {
    let schema = PgSchema::create();
    let url = schema.url();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| PgPlatform::connect_with_pool_size(&url, 2).map(|_| ())))
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    });
    let mut admin = schema.admin();
    // One row per migration, each applied once.
    let versions: i64 = admin
        .query_one("SELECT COUNT(*) FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(versions, MIGRATION_COUNT);
}

/// The migrations each backend has.
const MIGRATIONS: [&str; 13] = [
    "0001_platform",
    "0002_sharing",
    "0003_alerts",
    "0004_governance",
    "0005_incidents",
    "0006_complaints",
    "0007_vendors",
    "0008_quality",
    "0009_backup_plans",
    "0010_training",
    "0011_risk_emergency",
    "0012_collections_lineage",
    "0013_temporaries",
];
const MIGRATION_COUNT: i64 = MIGRATIONS.len() as i64;

/// A store written before the sharing tables existed (schema version 1) gets them when
/// opened, with its records kept.
#[test]
fn a_version_1_sqlite_store_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PLATFORM_FILE);
    let store = SqlitePlatform::open(&path).unwrap();
    store
        .create_department(&Department {
            code: "D1".into(),
            name: "一".into(),
            parent: None,
            created_at: 1,
        })
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE temporaries; DROP TABLE derivation_inputs; DROP TABLE derivations; DROP TABLE collection_reviews; \
         DROP TABLE collection_fields; DROP TABLE collections; DROP TABLE rectifications; \
         DROP TABLE emergency_drills; DROP TABLE emergency_plans; DROP TABLE risk_assessments; \
         DROP TABLE training_attendance; DROP TABLE training_sessions; \
         DROP TABLE restore_drills; DROP TABLE plan_backups; DROP TABLE backup_plans; \
         DROP TABLE quality_runs; DROP TABLE quality_rule_sets; \
         DROP TABLE share_usage; DROP TABLE data_services; DROP TABLE share_agreements; \
         DROP TABLE share_approvals; DROP TABLE share_requests; DROP TABLE catalogue_entries; \
         DROP TABLE share_sources; DROP TABLE alerts; DROP TABLE destructions; \
         DROP TABLE legal_holds; DROP TABLE incident_events; DROP TABLE incidents; \
         DROP TABLE complaints; DROP TABLE vendor_contracts; DROP TABLE vendors; \
         DELETE FROM schema_version WHERE version >= 2;",
    )
    .unwrap();
    drop(conn);
    let store = SqlitePlatform::open(&path).unwrap();
    assert_eq!(store.departments().unwrap().len(), 1);
    assert!(store.sources().unwrap().is_empty());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM schema_version ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, MIGRATIONS);
}

#[test]
#[cfg_attr(not(shuan_test_postgres), ignore = "needs SHUAN_TEST_POSTGRES")]
fn a_version_1_postgres_store_is_upgraded_in_place() {
    let schema = PgSchema::create();
    drop(PgPlatform::connect_with_pool_size(&schema.url(), 1).unwrap());
    schema
        .admin()
        .batch_execute(
            "DROP TABLE share_usage, data_services, share_agreements, share_approvals, \
             share_requests, catalogue_entries, share_sources, alerts, destructions, \
             legal_holds, incident_events, incidents, complaints, vendor_contracts, vendors, \
             quality_runs, quality_rule_sets, restore_drills, plan_backups, backup_plans, \
             training_attendance, training_sessions, temporaries, derivation_inputs, derivations, \
             collection_reviews, collection_fields, collections, rectifications, \
             emergency_drills, emergency_plans, risk_assessments; \
             DELETE FROM schema_version WHERE version >= 2;",
        )
        .unwrap();
    let store = PgPlatform::connect_with_pool_size(&schema.url(), 1).unwrap();
    assert!(store.sources().unwrap().is_empty());
    let versions: i64 = schema
        .admin()
        .query_one("SELECT COUNT(*) FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(versions, MIGRATION_COUNT);
}

#[test]
#[cfg_attr(not(shuan_test_postgres), ignore = "needs SHUAN_TEST_POSTGRES")]
fn a_newer_postgres_schema_is_refused() {
    let schema = PgSchema::create();
    drop(PgPlatform::connect_with_pool_size(&schema.url(), 1).unwrap());
    schema
        .admin()
        .execute(
            "INSERT INTO schema_version (version, name) VALUES (99, 'future')",
            &[],
        )
        .unwrap();
    let e = PgPlatform::connect_with_pool_size(&schema.url(), 1)
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, PlatformStoreError::Schema(_)), "{e}");
    assert!(e.to_string().contains("upgrade shuan"), "{e}");
}

#[test]
#[cfg_attr(not(shuan_test_postgres), ignore = "needs SHUAN_TEST_POSTGRES")]
fn open_platform_reaches_postgres() {
    let schema = PgSchema::create();
    let dir = tempfile::tempdir().unwrap();
    let s = open_platform(dir.path(), Some(&schema.url())).unwrap();
    assert_eq!(s.backend(), "postgres");
    s.ping().unwrap();
    assert!(!dir.path().join(PLATFORM_FILE).exists());
    let postgresql = schema.url().replacen("postgres://", "postgresql://", 1);
    assert_eq!(
        open_platform(dir.path(), Some(&postgresql))
            .unwrap()
            .backend(),
        "postgres"
    );
}
