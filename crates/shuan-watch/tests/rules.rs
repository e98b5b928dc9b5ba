//! Each rule: a scripted audit stream that fires it (rule, caller, evidence), and the
//! normal use of a department that fires nothing.

mod common;

use std::collections::HashMap;

use common::*;
use shuan_ledger::Outcome;
use shuan_watch::{AgreementScope, Alert, RuleId, RuleSet, Severity, Watcher};

fn agreements() -> HashMap<i64, AgreementScope> {
    let mut m = HashMap::new();
    m.insert(
        7,
        AgreementScope {
            resources: vec!["R-001".into()],
            purpose: Some("社保资格核查".into()),
        },
    );
    m
}

fn run_with(rules: RuleSet, s: &Stream) -> Vec<Alert> {
    let mut w = Watcher::new(rules).with_lookup(Box::new(agreements()));
    s.records
        .iter()
        .flat_map(|r| w.observe_from("node-a", r))
        .collect()
}

fn run(s: &Stream) -> Vec<Alert> {
    run_with(RuleSet::default(), s)
}

fn seqs(a: &Alert) -> Vec<u64> {
    a.evidence.iter().map(|e| e.seq).collect()
}

/// Two weeks of a department's ordinary work: lookups through working hours, a vendor's
/// small extracts, a mistyped password now and then.
fn normal(s: &mut Stream, rng: &mut Rng) {
    let users = [
        user("zhang.san", "330100-rsj", "analyst"),
        user("li.si", "330100-rsj", "analyst"),
        user("wang.wu", "330100-mzj", "analyst"),
        user("zhao.liu", "330100-mzj", "data_steward"),
        user("chen.qi", "330100-gaj", "analyst"),
    ];
    let vendor = user("vendor.ops", "vendor-acme", "vendor_operator");
    let start = monday_10am() - HOUR; // 09:00 local
    for day in 0..12 {
        if day % 7 >= 5 {
            continue; // the weekend
        }
        let day0 = start + day * DAY;
        for (i, u) in users.iter().enumerate() {
            let addr = format!("10.1.0.{}", 10 + i);
            s.other(day0, u, &addr, "session.login", Outcome::Denied);
            s.other(day0 + MINUTE, u, &addr, "session.login", Outcome::Allowed);
            for hour in 0..8 {
                let n = 10 + rng.below(20);
                for k in 0..n {
                    let t = day0 + hour * HOUR + 2 * MINUTE + k as i64 * (55 * MINUTE / n as i64);
                    let mut c = Call::lookup(&rng.id_no()).rows(rng.below(2));
                    c.purpose = Some("社保资格核查".into());
                    // One analyst also works from a second desk from the start.
                    let a = if i == 1 && k % 2 == 1 {
                        "10.1.0.99"
                    } else {
                        &addr
                    };
                    s.call(t, u, a, &c);
                }
            }
        }
        for hour in 0..8 {
            for k in 0..3 {
                let c = Call {
                    params: vec![("district".into(), "330102".into())],
                    ..Call::lookup("")
                }
                .rows(50);
                s.call(
                    day0 + hour * HOUR + k * 15 * MINUTE,
                    &vendor,
                    "172.16.5.5",
                    &c,
                );
            }
        }
    }
    s.sort_by_time();
    for (i, r) in s.records.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
    }
}

#[test]
fn normal_use_fires_nothing() {
    let mut s = Stream::default();
    normal(&mut s, &mut Rng(42));
    assert!(s.records.len() > 3000, "{}", s.records.len());
    let alerts = run(&s);
    assert!(alerts.is_empty(), "{:#?}", &alerts[..alerts.len().min(3)]);
}

/// A caller with `days` days of `per_hour` calls an hour (their baseline).
fn baseline(s: &mut Stream, who: &shuan_ledger::Actor, days: i64, per_hour: i64, rng: &mut Rng) {
    for day in 0..days {
        let d = monday_10am() + (day / 5 * 7 + day % 5) * DAY;
        for k in 0..per_hour {
            let c = Call::lookup(&rng.id_no());
            s.call(d + k * (HOUR / per_hour), who, "10.1.0.10", &c);
        }
    }
}

#[test]
fn volume_spike_fires_once_against_the_callers_own_median() {
    let mut s = Stream::default();
    let mut rng = Rng(7);
    let u = user("zhang.san", "330100-rsj", "analyst");
    baseline(&mut s, &u, 6, 20, &mut rng);
    // The next working day, 11:00: 300 calls of one query in the hour (no enumeration).
    let spike = monday_10am() + 7 * DAY + HOUR;
    let mut spike_seqs = Vec::new();
    for k in 0..300 {
        spike_seqs.push(s.call(
            spike + k * 10_000_000,
            &u,
            "10.1.0.10",
            &Call::lookup("330102199001011234"),
        ));
    }
    let alerts = run(&s);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.rule, RuleId::VolumeSpike);
    assert_eq!(a.actor, "zhang.san");
    assert_eq!(a.department.as_deref(), Some("330100-rsj"));
    assert_eq!(a.severity, Severity::High);
    // median 20 × 5 = 100: the 101st call of the hour crosses; evidence is the latest 20.
    assert_eq!(a.evidence_count, 101);
    assert_eq!(seqs(a), spike_seqs[81..101].to_vec());
    assert_eq!(a.window_start.micros() % HOUR, 0);
    assert!(a.window_start.micros() <= spike && spike < a.window_end.micros());
}

#[test]
fn volume_spike_waits_for_a_baseline() {
    let mut s = Stream::default();
    let u = user("new.hire", "330100-rsj", "analyst");
    let mut rng = Rng(8);
    baseline(&mut s, &u, 3, 20, &mut rng);
    for k in 0..500 {
        s.call(
            monday_10am() + 3 * DAY + HOUR + k * 5_000_000,
            &u,
            "10.1.0.10",
            &Call::lookup("330102199001011234"),
        );
    }
    assert!(run(&s).is_empty());
}

#[test]
fn enumeration_of_distinct_lookups_fires_at_the_threshold() {
    let mut s = Stream::default();
    let mut rng = Rng(11);
    let u = user("li.si", "330100-rsj", "analyst");
    let t0 = monday_10am() + 20 * MINUTE;
    let mut seen = Vec::new();
    for k in 0..80 {
        let c = Call::lookup(&rng.id_no()).rows(k % 2);
        seen.push(s.call(t0 + k as i64 * 5_000_000, &u, "10.1.0.11", &c));
    }
    let alerts = run(&s);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(
        (a.rule, a.severity, a.actor.as_str()),
        (RuleId::Enumeration, Severity::High, "li.si")
    );
    // Masked values can collide (110***12X): the 50th distinct one is the trigger.
    let last = *seqs(a).last().unwrap();
    assert!((50..=60).contains(&last), "fired at {last}");
    assert_eq!(seqs(a), ((last - 19)..=last).collect::<Vec<_>>());
    assert_eq!(a.evidence_count, 50);
}

#[test]
fn sequential_identity_numbers_fire_sooner_and_stronger() {
    let mut s = Stream::default();
    let u = user("wang.wu", "330100-mzj", "analyst");
    let t0 = monday_10am();
    let body0 = 11010519900101010u64; // serial 010, 011, …
    for k in 0..30 {
        let c = Call::lookup(&id_number(body0 + k)).rows(1);
        s.call(t0 + k as i64 * 3_000_000, &u, "10.1.0.12", &c);
    }
    let alerts = run(&s);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.rule, RuleId::Enumeration);
    assert_eq!(a.severity, Severity::Critical);
    // 20 steps: the 21st lookup.
    assert_eq!(*seqs(a).last().unwrap(), 21);
    assert!(a.summary_zh.contains("顺序递进"), "{}", a.summary_zh);
}

#[test]
fn off_hours_fires_at_night_weekends_and_holidays_once_per_window() {
    let mut s = Stream::default();
    let u = user("zhao.liu", "330100-mzj", "data_steward");
    let c = Call::lookup("330102199001011234");
    s.call(monday_10am(), &u, "10.1.0.13", &c); // in hours
    let night = monday_10am() + 13 * HOUR + 5 * MINUTE; // 23:05
    let n1 = s.call(night, &u, "10.1.0.13", &c);
    s.call(night + MINUTE, &u, "10.1.0.13", &c);
    s.call(night + 2 * MINUTE, &u, "10.1.0.13", &c);
    let saturday = monday_10am() + 5 * DAY;
    let sat = s.call(saturday, &u, "10.1.0.13", &c);
    let holiday = monday_10am() + 7 * DAY; // Monday 2026-12-07
    let hol = s.call(holiday, &u, "10.1.0.13", &c);
    let mut rules = RuleSet::from_toml("[off_hours]\nholidays = [\"2026-12-07\"]\n").unwrap();
    let alerts = run_with(rules.clone(), &s);
    let got: Vec<(RuleId, &str, Vec<u64>)> = alerts
        .iter()
        .map(|a| (a.rule, a.actor.as_str(), seqs(a)))
        .collect();
    assert_eq!(
        got,
        vec![
            (RuleId::OffHours, "zhao.liu", vec![n1]),
            (RuleId::OffHours, "zhao.liu", vec![sat]),
            (RuleId::OffHours, "zhao.liu", vec![hol]),
        ]
    );
    assert!(
        alerts[0].summary_zh.contains("2026-11-30 23:05"),
        "{}",
        alerts[0].summary_zh
    );
    // Saturday made a working day (调休) is no longer off hours.
    rules
        .off_hours
        .workdays
        .insert(shuan_calendar::days_from_civil(2026, 12, 5));
    let alerts = run_with(rules, &s);
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| seqs(a) != vec![sat]));
}

#[test]
fn allowed_after_repeated_denials_fires() {
    let mut s = Stream::default();
    let u = user("chen.qi", "330100-gaj", "analyst");
    let c = Call::lookup("330102199001011234");
    let t0 = monday_10am();
    let mut denials = Vec::new();
    for k in 0..5 {
        denials.push(s.call(
            t0 + k * MINUTE,
            &u,
            "10.1.0.14",
            &c.clone().denied("forbidden"),
        ));
    }
    let ok = s.call(t0 + 6 * MINUTE, &u, "10.1.0.14", &c);
    let alerts = run(&s);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(
        (a.rule, a.actor.as_str()),
        (RuleId::AfterDenials, "chen.qi")
    );
    let mut want = denials.clone();
    want.push(ok);
    assert_eq!(seqs(a), want);
    assert_eq!(a.window_start.micros(), t0);

    // Four denials, or five spread over more than the window, are not enough.
    let mut s = Stream::default();
    for k in 0..4 {
        s.call(
            t0 + k * MINUTE,
            &u,
            "10.1.0.14",
            &c.clone().denied("forbidden"),
        );
    }
    s.call(t0 + 5 * MINUTE, &u, "10.1.0.14", &c);
    for k in 0..5 {
        s.call(
            t0 + HOUR + k * 3 * MINUTE,
            &u,
            "10.1.0.14",
            &c.clone().denied("forbidden"),
        );
    }
    s.call(t0 + HOUR + 14 * MINUTE, &u, "10.1.0.14", &c);
    assert!(run(&s).is_empty());
}

#[test]
fn password_guessing_then_sign_in_fires() {
    let mut s = Stream::default();
    let u = user("li.si", "330100-rsj", "analyst");
    let t0 = monday_10am();
    for k in 0..6 {
        s.other(
            t0 + k * 10_000_000,
            &u,
            "10.1.0.11",
            "session.login",
            Outcome::Denied,
        );
    }
    let ok = s.other(
        t0 + MINUTE * 2,
        &u,
        "10.1.0.11",
        "session.login",
        Outcome::Allowed,
    );
    let alerts = run(&s);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, RuleId::AfterDenials);
    // The latest five denials and the sign-in.
    assert_eq!(seqs(&alerts[0]), vec![2, 3, 4, 5, 6, ok]);
}

#[test]
fn new_address_after_the_baseline_fires_once() {
    let mut s = Stream::default();
    let u = user("zhang.san", "330100-rsj", "analyst");
    let c = Call::lookup("330102199001011234");
    let t0 = monday_10am();
    s.call(t0, &u, "10.1.0.10", &c);
    s.call(t0 + 2 * DAY, &u, "10.1.0.20", &c); // learnt: within 7 days
    s.call(t0 + 8 * DAY, &u, "10.1.0.20", &c);
    s.call(t0 + 8 * DAY + HOUR, &u, "10.1.0.10", &c);
    let fresh = s.call(t0 + 9 * DAY, &u, "203.0.113.7", &c);
    s.call(t0 + 9 * DAY + HOUR, &u, "203.0.113.7", &c);
    s.call(t0 + 10 * DAY, &u, "203.0.113.7", &c);
    // Someone else's very first record is not "new".
    s.call(
        t0 + 9 * DAY,
        &user("new.hire", "330100-rsj", "analyst"),
        "198.51.100.1",
        &c,
    );
    let alerts = run(&s);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(
        (a.rule, a.actor.as_str(), seqs(a)),
        (RuleId::NewAddress, "zhang.san", vec![fresh])
    );
    assert!(a.summary_zh.contains("203.0.113.7"));
}

#[test]
fn vendor_bulk_export_by_rows_and_by_csv() {
    let mut s = Stream::default();
    let vendor = user("vendor.ops", "vendor-acme", "auditor,vendor_operator");
    let staff = user("zhang.san", "330100-rsj", "analyst");
    let t0 = monday_10am();
    let big = Call {
        params: vec![("district".into(), "330102".into())],
        ..Call::lookup("")
    }
    .rows(400);
    let mut v = Vec::new();
    for k in 0..3 {
        v.push(s.call(t0 + k * MINUTE, &vendor, "172.16.5.5", &big));
        s.call(t0 + k * MINUTE, &staff, "10.1.0.10", &big);
    }
    // The next hour: five small CSV extracts.
    let mut csv = Vec::new();
    for k in 0..5 {
        csv.push(s.call(
            t0 + HOUR + k * MINUTE,
            &vendor,
            "172.16.5.5",
            &big.clone().rows(2).csv(),
        ));
    }
    let alerts = run(&s);
    let got: Vec<(RuleId, &str, Vec<u64>)> = alerts
        .iter()
        .map(|a| (a.rule, a.actor.as_str(), seqs(a)))
        .collect();
    assert_eq!(
        got,
        vec![
            (RuleId::VendorBulkExport, "vendor.ops", v),
            (RuleId::VendorBulkExport, "vendor.ops", csv),
        ]
    );
    assert_eq!(alerts[0].severity, Severity::Critical);
}

#[test]
fn access_outside_the_agreement_fires() {
    let mut s = Stream::default();
    let t0 = monday_10am();
    let a = user("zhang.san", "330100-rsj", "analyst");
    let b = user("li.si", "330100-rsj", "analyst");
    let c = user("wang.wu", "330100-mzj", "analyst");
    let d = user("chen.qi", "330100-gaj", "analyst");
    let mut ok = Call::lookup("330102199001011234");
    ok.purpose = Some("社保资格核查".into());
    s.call(t0, &a, "10.1.0.10", &ok);
    let other_resource = s.call(
        t0 + MINUTE,
        &a,
        "10.1.0.10",
        &Call {
            resource: "R-002".into(),
            ..ok.clone()
        },
    );
    s.call(
        t0 + 2 * MINUTE,
        &a,
        "10.1.0.10",
        &Call {
            resource: "R-003".into(),
            ..ok.clone()
        },
    );
    let wrong_purpose = s.call(
        t0,
        &b,
        "10.1.0.11",
        &Call {
            purpose: Some("商业营销".into()),
            ..ok.clone()
        },
    );
    let refused = s.call(t0, &c, "10.1.0.12", &ok.clone().denied("no_agreement"));
    // Other refusals and unknown agreements are not this rule's.
    s.call(t0, &d, "10.1.0.13", &ok.clone().denied("rate_limited"));
    s.call(
        t0,
        &d,
        "10.1.0.13",
        &Call {
            agreement: Some(99),
            resource: "R-009".into(),
            ..ok.clone()
        },
    );
    let alerts = run(&s);
    let got: Vec<(RuleId, &str, Vec<u64>)> = alerts
        .iter()
        .map(|a| (a.rule, a.actor.as_str(), seqs(a)))
        .collect();
    assert_eq!(
        got,
        vec![
            (RuleId::OutsidePurpose, "zhang.san", vec![other_resource]),
            (RuleId::OutsidePurpose, "li.si", vec![wrong_purpose]),
            (RuleId::OutsidePurpose, "wang.wu", vec![refused]),
        ]
    );
    assert!(alerts[0].summary_zh.contains("R-002"));
}

#[test]
fn records_from_two_nodes_slightly_out_of_order_alert_once() {
    let mut s = Stream::default();
    let mut rng = Rng(5);
    let u = user("li.si", "330100-rsj", "analyst");
    let t0 = monday_10am();
    for k in 0..120 {
        s.call(
            t0 + k * 4_000_000,
            &u,
            "10.1.0.11",
            &Call::lookup(&rng.id_no()),
        );
    }
    let mut w = Watcher::new(RuleSet::default());
    let mut alerts = Vec::new();
    // Node b's records arrive up to 3 s late; two nodes number their ledgers separately.
    let (mut a_seq, mut b_seq) = (0, 0);
    let mut order: Vec<(i64, usize)> = s
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.time.micros() + if i % 2 == 1 { 3_000_000 } else { 0 }, i))
        .collect();
    order.sort();
    for (_, i) in order {
        let mut r = s.records[i].clone();
        let node = if i % 2 == 1 {
            b_seq += 1;
            r.seq = b_seq;
            "node-b"
        } else {
            a_seq += 1;
            r.seq = a_seq;
            "node-a"
        };
        alerts.extend(w.observe_from(node, &r));
    }
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let nodes: std::collections::BTreeSet<&str> =
        alerts[0].evidence.iter().map(|e| e.node.as_str()).collect();
    assert_eq!(
        nodes.into_iter().collect::<Vec<_>>(),
        vec!["node-a", "node-b"]
    );
}

#[test]
fn disabled_rules_stay_quiet_and_replays_are_identical() {
    let mut s = Stream::default();
    let u = user("zhao.liu", "330100-mzj", "data_steward");
    s.call(
        monday_10am() + 13 * HOUR,
        &u,
        "10.1.0.13",
        &Call::lookup("1"),
    );
    let off = RuleSet::from_toml("[off_hours]\nenabled = false\n").unwrap();
    assert!(run_with(off, &s).is_empty());
    let mut big = Stream::default();
    normal(&mut big, &mut Rng(3));
    for r in &s.records {
        let mut r = r.clone();
        r.seq = big.records.len() as u64 + 1;
        big.records.push(r);
    }
    assert_eq!(run(&big), run(&big));
    assert_eq!(run(&big).len(), 1);
}

#[test]
fn callers_past_the_cap_are_evicted() {
    let rules = RuleSet::from_toml("[engine]\nmax_actors = 16\n").unwrap();
    let mut w = Watcher::new(rules);
    let mut s = Stream::default();
    for k in 0..1000 {
        let u = user(&format!("u{k}"), "d", "analyst");
        s.call(
            monday_10am() + k * 1_000_000,
            &u,
            "10.0.0.1",
            &Call::lookup("1"),
        );
    }
    for r in &s.records {
        w.observe(r);
    }
    let st = w.stats();
    assert!(st.actors <= 16, "{st:?}");
    assert_eq!(st.records, 1000);
    assert_eq!(st.evicted as usize + st.actors, 1000);
}

#[test]
fn retuned_windows_start_afresh() {
    let mut rng = Rng(9);
    let u = user("li.si", "330100-rsj", "analyst");
    let mut s = Stream::default();
    let t0 = monday_10am();
    // 30 distinct lookups in the first 10 minutes: under the threshold of 50.
    for k in 0..30 {
        s.call(
            t0 + k * 10_000_000,
            &u,
            "10.1.0.11",
            &Call::lookup(&rng.id_no()),
        );
    }
    let mut w = Watcher::new(RuleSet::default());
    for r in &s.records {
        assert!(w.observe(r).is_empty());
    }
    // Now an hour-long window: the next hour's 60 lookups count from zero and fire once.
    w.set_rules(RuleSet::from_toml("[enumeration]\nwindow_minutes = 60\n").unwrap());
    let mut later = Stream::default();
    for k in 0..60 {
        later.call(
            t0 + HOUR + k * 50_000_000,
            &u,
            "10.1.0.11",
            &Call::lookup(&rng.id_no()),
        );
    }
    let alerts: Vec<Alert> = later.records.iter().flat_map(|r| w.observe(r)).collect();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].rule, RuleId::Enumeration);
    assert_eq!(
        alerts[0].window_end.micros() - alerts[0].window_start.micros(),
        HOUR
    );
    assert_eq!(alerts[0].evidence_count, 50);
    // The 50th lookup of the new hour fired it, in the hour that holds it.
    assert_eq!(seqs(&alerts[0]).last(), Some(&50));
    assert!(alerts[0].window_start.micros() <= t0 + HOUR);
    assert!(t0 + HOUR < alerts[0].window_end.micros());
}
