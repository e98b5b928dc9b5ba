//! The data-sharing records' contract (issue 12): one suite against `&dyn PlatformStore`,
//! run on SQLite and on the real PostgreSQL (see `common`), so both backends keep the same
//! rules: unique names and codes, conditions and legal basis required by the catalogue,
//! steps decided in order, once, by different people, a refusal only with its reason,
//! exactly one agreement per request under concurrent approvals, revocation final,
//! agreements only shortened, and rate and volume counted by compare-and-set.

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(
    sources_are_unique_and_keep_the_sealed_url,
    catalogue_entries_need_conditions_and_basis,
    catalogue_updates_are_versioned,
    request_steps_in_order_once_by_different_people,
    a_refusal_needs_its_reason,
    concurrent_approvals_make_one_agreement,
    agreements_revoke_for_good_and_only_shorten,
    services_are_unique_on_known_resources,
    rate_and_volume_are_counted_once,
    concurrent_calls_never_pass_the_rate,
    requests_filter_by_requester_provider_status_and_due,
    sharing_records_survive_reopening,
);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;

    fn seed(s: &dyn PlatformStore) {
        for code in ["P", "R", "X"] {
            s.create_department(&Department {
                code: code.into(),
                name: format!("部门{code}"),
                parent: None,
                created_at: NOW,
            })
            .unwrap();
        }
    }

    fn source(name: &str) -> ShareSource {
        ShareSource {
            id: 0,
            name: name.into(),
            department: "P".into(),
            kind: "postgres".into(),
            display: "postgres://reader@db.internal:5432/hr".into(),
            url_sealed: vec![0, 0, 0, 1, 9, 8, 7, 0, 255],
            profile: "gbt43697".into(),
            created_by: "steward".into(),
            created_at: NOW,
            scanned_at: None,
        }
    }

    fn entry(code: &str, source_id: i64, locator: &str, share_type: &str) -> CatalogueEntry {
        CatalogueEntry {
            code: code.into(),
            source_id,
            locator: locator.into(),
            name: locator.rsplit('.').next().unwrap().into(),
            title: format!("资源{code}"),
            department: "P".into(),
            summary: "户籍人口基本信息".into(),
            format: "数据库表".into(),
            fields: vec![CatalogueField {
                name: "sfzh".into(),
                declared_type: Some("text".into()),
                data_type: Some("cn_resident_id".into()),
                label: Some("居民身份证号".into()),
                category: Some("pi_identity".into()),
                level: "一般数据4级".into(),
                level_rank: 3,
                personal: true,
            }],
            profile: "gbt43697".into(),
            level: "一般数据4级".into(),
            level_rank: 3,
            important: false,
            personal: true,
            share_type: share_type.into(),
            share_conditions: (share_type == "conditional").then(|| "按职责申请".to_string()),
            share_basis: (share_type == "none").then(|| "《某条例》第九条".to_string()),
            open_type: "none".into(),
            open_conditions: None,
            share_method: "interface".into(),
            update_cycle: "每日".into(),
            row_count: Some(1000),
            published_at: NOW,
            updated_at: NOW,
            updated_by: "steward".into(),
            version: 1,
        }
    }

    /// A source with one conditional entry `R1`.
    fn catalogue(s: &dyn PlatformStore) -> i64 {
        seed(s);
        let id = s.create_source(&source("hr")).unwrap();
        s.add_catalogue_entries(id, NOW, &[entry("R1", id, "public.persons", "conditional")])
            .unwrap();
        id
    }

    fn request(steps: &[&str]) -> ShareRequest {
        ShareRequest {
            id: 0,
            resource: "R1".into(),
            requester: "user".into(),
            department: "R".into(),
            provider: "P".into(),
            fields: vec!["sfzh".into(), "xm".into()],
            row_filter: serde_json::json!([{"column": "qx", "op": "eq", "value": "浉河区"}]),
            purpose: "低保资格核验".into(),
            scenario: "sharing".into(),
            basis: "《社会救助暂行办法》第十一条".into(),
            safeguards: Some("专人专机".into()),
            valid_days: 30,
            steps: steps.iter().map(|s| s.to_string()).collect(),
            next_step: 0,
            status: ShareStatus::Pending,
            created_at: NOW,
            deadline: Some(NOW + 14 * 86_400),
            decided_at: None,
            reason: None,
            agreement_id: None,
        }
    }

    fn terms() -> AgreementTerms {
        AgreementTerms {
            method: "interface".into(),
            valid_from: NOW,
            valid_until: NOW + 30 * 86_400,
            rate_per_minute: 60,
            rows_per_day: 10_000,
        }
    }

    fn is_conflict<T: std::fmt::Debug>(r: Result<T, PlatformStoreError>) -> bool {
        matches!(r, Err(PlatformStoreError::Conflict(_)))
    }

    pub fn sources_are_unique_and_keep_the_sealed_url(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let id = s.create_source(&source("hr")).unwrap();
        assert!(matches!(
            s.create_source(&source("hr")),
            Err(PlatformStoreError::Exists { kind: "source", .. })
        ));
        let mut elsewhere = source("other");
        elsewhere.department = "NOPE".into();
        assert!(matches!(
            s.create_source(&elsewhere),
            Err(PlatformStoreError::NotFound {
                kind: "department",
                ..
            })
        ));
        let got = s.source(id).unwrap().unwrap();
        assert_eq!(got.url_sealed, source("hr").url_sealed);
        assert_eq!(got.id, id);
        assert!(got.scanned_at.is_none());
        assert!(
            !format!("{got:?}").contains("url_sealed"),
            "Debug leaves the sealed URL out"
        );
        assert_eq!(s.sources().unwrap().len(), 1);
        assert!(s.source(id + 100).unwrap().is_none());
    }

    pub fn catalogue_entries_need_conditions_and_basis(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let id = s.create_source(&source("hr")).unwrap();
        let mut no_conditions = entry("R1", id, "public.a", "conditional");
        no_conditions.share_conditions = None;
        assert!(is_conflict(s.add_catalogue_entries(
            id,
            NOW,
            &[no_conditions]
        )));
        let mut no_basis = entry("R1", id, "public.a", "none");
        no_basis.share_basis = Some(String::new());
        assert!(is_conflict(s.add_catalogue_entries(id, NOW, &[no_basis])));
        let mut odd = entry("R1", id, "public.a", "conditional");
        odd.open_type = "sometimes".into();
        assert!(is_conflict(s.add_catalogue_entries(id, NOW, &[odd])));
        // All or nothing: the second entry's duplicate code undoes the first.
        let r = s.add_catalogue_entries(
            id,
            NOW,
            &[
                entry("R1", id, "public.a", "unconditional"),
                entry("R1", id, "public.b", "none"),
            ],
        );
        assert!(matches!(r, Err(PlatformStoreError::Exists { .. })), "{r:?}");
        assert!(s.catalogue_entries().unwrap().is_empty());
        assert!(s.source(id).unwrap().unwrap().scanned_at.is_none());
        s.add_catalogue_entries(
            id,
            NOW + 5,
            &[
                entry("R1", id, "public.a", "unconditional"),
                entry("R2", id, "public.b", "none"),
            ],
        )
        .unwrap();
        assert_eq!(s.source(id).unwrap().unwrap().scanned_at, Some(NOW + 5));
        let all = s.catalogue_entries().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], entry("R1", id, "public.a", "unconditional"));
        assert_eq!(s.catalogue_entry("R2").unwrap().unwrap().share_type, "none");
        // One entry per table of a source.
        assert!(s
            .add_catalogue_entries(id, NOW, &[entry("R3", id, "public.a", "none")])
            .is_err());
        // An entry of another source is refused.
        assert!(is_conflict(s.add_catalogue_entries(
            id,
            NOW,
            &[entry("R4", id + 1, "public.c", "none")]
        )));
        assert!(matches!(
            s.add_catalogue_entries(id + 9, NOW, &[]),
            Err(PlatformStoreError::NotFound { kind: "source", .. })
        ));
    }

    pub fn catalogue_updates_are_versioned(f: &Fixture) {
        let s = &*f.store;
        let id = catalogue(s);
        let mut e = s.catalogue_entry("R1").unwrap().unwrap();
        e.share_type = "none".into();
        e.share_basis = Some("《数据安全法》第二十一条".into());
        e.updated_by = "cdo".into();
        let next = s.update_catalogue_entry(&e).unwrap();
        assert_eq!(next.version, 2);
        assert_eq!(s.catalogue_entry("R1").unwrap().unwrap(), next);
        // Stale: written against version 1.
        e.share_type = "unconditional".into();
        assert!(is_conflict(s.update_catalogue_entry(&e)));
        let mut bad = next.clone();
        bad.share_basis = None;
        assert!(is_conflict(s.update_catalogue_entry(&bad)));
        let mut moved = next.clone();
        moved.locator = "public.other".into();
        assert!(is_conflict(s.update_catalogue_entry(&moved)));
        let mut ghost = next.clone();
        ghost.code = "NOPE".into();
        assert!(matches!(
            s.update_catalogue_entry(&ghost),
            Err(PlatformStoreError::NotFound { .. })
        ));
        assert_eq!(s.catalogue_entry("R1").unwrap().unwrap().version, 2);
        let _ = id;
    }

    pub fn request_steps_in_order_once_by_different_people(f: &Fixture) {
        let s = &*f.store;
        catalogue(s);
        let id = s
            .create_share_request(&request(&["steward", "cdo"]))
            .unwrap();
        let stored = s.share_request(id).unwrap().unwrap();
        assert_eq!(stored.id, id);
        assert_eq!(stored.row_filter, request(&[]).row_filter);
        assert!(is_conflict(s.decide_share_request(
            id,
            "cdo",
            true,
            "c1",
            None,
            NOW,
            &terms()
        )));
        let (r, a) = s
            .decide_share_request(id, "steward", true, "s1", Some("同意"), NOW + 1, &terms())
            .unwrap();
        assert_eq!((r.status, r.next_step, a), (ShareStatus::Pending, 1, None));
        assert!(is_conflict(s.decide_share_request(
            id,
            "steward",
            true,
            "s2",
            None,
            NOW,
            &terms()
        )));
        assert!(
            is_conflict(s.decide_share_request(id, "cdo", true, "s1", None, NOW, &terms())),
            "the steward who approved cannot also sign the CDO step"
        );
        let mut empty = terms();
        empty.valid_until = empty.valid_from;
        assert!(is_conflict(
            s.decide_share_request(id, "cdo", true, "c1", None, NOW, &empty)
        ));
        let (r, a) = s
            .decide_share_request(id, "cdo", true, "c1", None, NOW + 2, &terms())
            .unwrap();
        let a = a.expect("the last approval creates the agreement");
        assert_eq!(r.status, ShareStatus::Approved);
        assert_eq!(r.agreement_id, Some(a.id));
        assert_eq!(r.decided_at, Some(NOW + 2));
        assert_eq!(a.request_id, id);
        assert_eq!((a.provider.as_str(), a.recipient.as_str()), ("P", "R"));
        assert_eq!(a.fields, vec!["sfzh".to_string(), "xm".to_string()]);
        assert_eq!(a.status, AgreementStatus::Active);
        assert_eq!((a.valid_from, a.valid_until), (NOW, NOW + 30 * 86_400));
        assert_eq!(s.agreement(a.id).unwrap().unwrap(), a);
        assert_eq!(s.share_request(id).unwrap().unwrap(), r);
        assert!(is_conflict(s.decide_share_request(
            id,
            "cdo",
            true,
            "c2",
            None,
            NOW,
            &terms()
        )));
        let steps: Vec<(String, String, bool)> = s
            .approvals(id)
            .unwrap()
            .into_iter()
            .map(|a| (a.step, a.approver, a.approve))
            .collect();
        assert_eq!(
            steps,
            vec![
                ("steward".into(), "s1".into(), true),
                ("cdo".into(), "c1".into(), true)
            ]
        );
        assert!(matches!(
            s.decide_share_request(id + 50, "steward", true, "s1", None, NOW, &terms()),
            Err(PlatformStoreError::NotFound { .. })
        ));
        let mut ghost = request(&["steward"]);
        ghost.resource = "NOPE".into();
        assert!(matches!(
            s.create_share_request(&ghost),
            Err(PlatformStoreError::NotFound { .. })
        ));
        let mut approved = request(&["steward"]);
        approved.status = ShareStatus::Approved;
        assert!(is_conflict(s.create_share_request(&approved)));
    }

    pub fn a_refusal_needs_its_reason(f: &Fixture) {
        let s = &*f.store;
        catalogue(s);
        let id = s
            .create_share_request(&request(&["steward", "cdo"]))
            .unwrap();
        for reason in [None, Some(""), Some("  ")] {
            assert!(is_conflict(s.decide_share_request(
                id,
                "steward",
                false,
                "s1",
                reason,
                NOW,
                &terms()
            )));
        }
        assert!(s.approvals(id).unwrap().is_empty());
        let (r, a) = s
            .decide_share_request(
                id,
                "steward",
                false,
                "s1",
                Some("超出履职范围"),
                NOW,
                &terms(),
            )
            .unwrap();
        assert_eq!((r.status, a), (ShareStatus::Rejected, None));
        assert_eq!(r.reason.as_deref(), Some("超出履职范围"));
        assert!(is_conflict(s.decide_share_request(
            id,
            "cdo",
            true,
            "c1",
            None,
            NOW,
            &terms()
        )));
        // A request refused at once (不予共享) carries the legal basis as its reason.
        let mut refused = request(&[]);
        refused.status = ShareStatus::Refused;
        assert!(is_conflict(s.create_share_request(&refused)));
        refused.reason = Some("不予共享：《某条例》第九条".into());
        let rid = s.create_share_request(&refused).unwrap();
        assert_eq!(
            s.share_request(rid).unwrap().unwrap().status,
            ShareStatus::Refused
        );
    }

    pub fn concurrent_approvals_make_one_agreement(f: &Fixture) {
        catalogue(&*f.store);
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        for (round, steps) in [vec!["steward"], vec!["conformity"], vec!["steward", "cdo"]]
            .into_iter()
            .enumerate()
        {
            let id = f.store.create_share_request(&request(&steps)).unwrap();
            for step in &steps[..steps.len() - 1] {
                f.store
                    .decide_share_request(id, step, true, "first", None, NOW, &terms())
                    .unwrap();
            }
            let last = *steps.last().unwrap();
            let results: Vec<_> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|i| {
                        let s = stores[i % 2];
                        scope.spawn(move || {
                            s.decide_share_request(
                                id,
                                last,
                                true,
                                &format!("approver{i}"),
                                Some("同意"),
                                NOW,
                                &terms(),
                            )
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(won.len(), 1, "round {round}: {results:?}");
            assert!(
                results
                    .iter()
                    .filter(|r| r.is_err())
                    .all(|r| matches!(r, Err(PlatformStoreError::Conflict(_)))),
                "{results:?}"
            );
            let agreements: Vec<Agreement> = f
                .store
                .agreements(Some("R"), Some("R1"))
                .unwrap()
                .into_iter()
                .filter(|a| a.request_id == id)
                .collect();
            assert_eq!(agreements.len(), 1, "round {round}");
            assert_eq!(Some(&agreements[0]), won[0].1.as_ref());
            assert_eq!(f.store.approvals(id).unwrap().len(), steps.len());
        }
    }

    fn approved(s: &dyn PlatformStore) -> Agreement {
        let id = s.create_share_request(&request(&["steward"])).unwrap();
        s.decide_share_request(id, "steward", true, "s1", None, NOW, &terms())
            .unwrap()
            .1
            .unwrap()
    }

    pub fn agreements_revoke_for_good_and_only_shorten(f: &Fixture) {
        let s = &*f.store;
        catalogue(s);
        let a = approved(s);
        let held = s
            .set_agreement_status(
                a.id,
                AgreementStatus::Suspended,
                "s1",
                Some("核查中"),
                NOW + 1,
            )
            .unwrap();
        assert_eq!(held.status, AgreementStatus::Suspended);
        assert_eq!(held.status_reason.as_deref(), Some("核查中"));
        s.set_agreement_status(a.id, AgreementStatus::Active, "s1", None, NOW + 2)
            .unwrap();
        assert!(is_conflict(s.shorten_agreement(
            a.id,
            a.valid_until + 1,
            "s1",
            NOW
        )));
        assert!(is_conflict(s.shorten_agreement(
            a.id,
            a.valid_from,
            "s1",
            NOW
        )));
        let short = s.shorten_agreement(a.id, NOW + 100, "s1", NOW + 3).unwrap();
        assert_eq!(short.valid_until, NOW + 100);
        assert_eq!(s.agreement(a.id).unwrap().unwrap().valid_until, NOW + 100);
        let gone = s
            .set_agreement_status(
                a.id,
                AgreementStatus::Revoked,
                "c1",
                Some("用途变更"),
                NOW + 4,
            )
            .unwrap();
        assert_eq!(gone.status, AgreementStatus::Revoked);
        assert_eq!(gone.status_by.as_deref(), Some("c1"));
        for status in [
            AgreementStatus::Active,
            AgreementStatus::Suspended,
            AgreementStatus::Revoked,
        ] {
            assert!(is_conflict(s.set_agreement_status(
                a.id,
                status,
                "c1",
                None,
                NOW + 5
            )));
        }
        assert!(is_conflict(s.shorten_agreement(a.id, NOW + 50, "s1", NOW)));
        assert_eq!(
            s.agreement(a.id).unwrap().unwrap().status,
            AgreementStatus::Revoked
        );
        assert!(matches!(
            s.set_agreement_status(a.id + 9, AgreementStatus::Revoked, "c1", None, NOW),
            Err(PlatformStoreError::NotFound { .. })
        ));
    }

    fn service(name: &str) -> DataService {
        DataService {
            name: name.into(),
            resource: "R1".into(),
            department: "P".into(),
            fields: vec!["xm".into()],
            params: serde_json::json!([{"name": "id", "column": "sfzh", "op": "eq", "type": "string", "required": true}]),
            max_rows: 100,
            timeout_ms: 5000,
            created_by: "s1".into(),
            created_at: NOW,
            disabled: false,
        }
    }

    pub fn services_are_unique_on_known_resources(f: &Fixture) {
        let s = &*f.store;
        catalogue(s);
        s.create_service(&service("persons")).unwrap();
        assert!(matches!(
            s.create_service(&service("persons")),
            Err(PlatformStoreError::Exists { .. })
        ));
        let mut ghost = service("ghost");
        ghost.resource = "NOPE".into();
        assert!(matches!(
            s.create_service(&ghost),
            Err(PlatformStoreError::NotFound { .. })
        ));
        let mut unbounded = service("unbounded");
        unbounded.max_rows = 0;
        assert!(is_conflict(s.create_service(&unbounded)));
        assert_eq!(s.service("persons").unwrap().unwrap(), service("persons"));
        s.set_service_disabled("persons", true).unwrap();
        assert!(s.service("persons").unwrap().unwrap().disabled);
        assert!(matches!(
            s.set_service_disabled("nope", true),
            Err(PlatformStoreError::NotFound { .. })
        ));
        assert_eq!(s.services().unwrap().len(), 1);
    }

    pub fn rate_and_volume_are_counted_once(f: &Fixture) {
        let s = &*f.store;
        catalogue(s);
        let a = approved(s);
        let (minute, day) = (NOW - NOW % 60, NOW - NOW % 86_400);
        for _ in 0..3 {
            assert_eq!(
                s.record_call(a.id, minute, day, 2, 3, 10).unwrap(),
                Quota::Admitted
            );
        }
        assert_eq!(
            s.record_call(a.id, minute, day, 1, 3, 10).unwrap(),
            Quota::RateExceeded
        );
        assert_eq!(
            s.usage(a.id, minute, day).unwrap(),
            Usage {
                calls_this_minute: 3,
                rows_today: 6
            }
        );
        // The next minute: calls again, but the day's volume holds 4 more rows.
        assert_eq!(
            s.record_call(a.id, minute + 60, day, 5, 3, 10).unwrap(),
            Quota::VolumeExceeded
        );
        assert_eq!(
            s.usage(a.id, minute + 60, day).unwrap(),
            Usage {
                calls_this_minute: 0,
                rows_today: 6
            },
            "a refused call counts nothing"
        );
        assert_eq!(
            s.record_call(a.id, minute + 60, day, 4, 3, 10).unwrap(),
            Quota::Admitted
        );
        assert_eq!(
            s.record_call(a.id, minute + 60, day, 0, 3, 10).unwrap(),
            Quota::Admitted,
            "a call answering nothing still counts against the rate"
        );
        assert_eq!(
            s.record_call(a.id, minute + 120, day, 11, 3, 100).unwrap(),
            Quota::Admitted
        );
        assert_eq!(
            s.record_call(a.id, minute + 120, day + 86_400, 11, 3, 10)
                .unwrap(),
            Quota::VolumeExceeded,
            "one call larger than a whole day"
        );
        assert!(matches!(
            s.record_call(a.id + 9, minute, day, 1, 3, 10),
            Err(PlatformStoreError::NotFound { .. })
        ));
    }

    pub fn concurrent_calls_never_pass_the_rate(f: &Fixture) {
        catalogue(&*f.store);
        let a = approved(&*f.store);
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        let (minute, day) = (NOW - NOW % 60, NOW - NOW % 86_400);
        let results: Vec<Quota> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let s = stores[i % 2];
                    scope.spawn(move || s.record_call(a.id, minute, day, 1, 5, 1000).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let admitted = results.iter().filter(|q| **q == Quota::Admitted).count();
        assert_eq!(admitted, 5, "{results:?}");
        assert_eq!(
            f.store.usage(a.id, minute, day).unwrap(),
            Usage {
                calls_this_minute: 5,
                rows_today: 5
            }
        );
    }

    pub fn requests_filter_by_requester_provider_status_and_due(f: &Fixture) {
        let s = &*f.store;
        catalogue(s);
        let first = s.create_share_request(&request(&["steward"])).unwrap();
        let mut late = request(&["steward"]);
        late.requester = "other".into();
        late.deadline = Some(NOW + 10);
        let second = s.create_share_request(&late).unwrap();
        let all = s.share_requests(&ShareRequestFilter::default()).unwrap();
        assert_eq!(
            all.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![second, first],
            "newest first"
        );
        let mine = s
            .share_requests(&ShareRequestFilter {
                requester: Some("user".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].id, first);
        let provider = s
            .share_requests(&ShareRequestFilter {
                provider: Some("X".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(provider.is_empty());
        let overdue = s
            .share_requests(&ShareRequestFilter {
                due_before: Some(NOW + 11),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            overdue.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![second]
        );
        s.decide_share_request(second, "steward", true, "s1", None, NOW, &terms())
            .unwrap();
        assert!(s
            .share_requests(&ShareRequestFilter {
                due_before: Some(NOW + 11),
                ..Default::default()
            })
            .unwrap()
            .is_empty());
        let approved = s
            .share_requests(&ShareRequestFilter {
                status: Some(ShareStatus::Approved),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(approved.len(), 1);
    }

    pub fn sharing_records_survive_reopening(f: &Fixture) {
        catalogue(&*f.store);
        let a = approved(&*f.store);
        f.store.create_service(&service("persons")).unwrap();
        let again = f.second_handle();
        assert_eq!(again.agreement(a.id).unwrap().unwrap(), a);
        assert_eq!(again.catalogue_entries().unwrap().len(), 1);
        assert_eq!(
            again.service("persons").unwrap().unwrap(),
            service("persons")
        );
    }
}
