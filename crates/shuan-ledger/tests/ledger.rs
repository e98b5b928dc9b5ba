//! Behaviour of the ledger through its public API: durability across reopen, group
//! commit under concurrency, proofs, exhaustive and random tamper detection with
//! positions, torn-tail recovery, retention, and random operation sequences against an
//! in-memory model.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use shuan_crypto::sm2::SigningKey;
use shuan_ledger::reader::{records, Entries};
use shuan_ledger::{
    prove, verify, verify_with_threads, Actor, ActorKind, Event, Ledger, LedgerError, Options,
    Outcome, Timestamp, VerifyOptions,
};

fn event(i: u64) -> Event {
    let mut details = serde_json::Map::new();
    details.insert("rows".into(), serde_json::json!(i * 7));
    details.insert(
        "note".into(),
        serde_json::json!(format!("第{i}次 \"quoted\"\n")),
    );
    Event {
        time: None,
        actor: Actor {
            kind: if i % 5 == 0 {
                ActorKind::System
            } else {
                ActorKind::User
            },
            id: format!("user{}", i % 3),
            department: Some("民政局".into()),
            role: (i % 2 == 0).then(|| "analyst".into()),
        },
        action: ["scan", "export", "mask"][(i % 3) as usize].into(),
        object: format!("pg:civil.t{}.c", i % 4),
        purpose: Some("统计".into()),
        outcome: [Outcome::Allowed, Outcome::Denied, Outcome::Error][(i % 3) as usize],
        client: None,
        request_id: Some(format!("req-{i}")),
        details,
    }
}

fn key() -> SigningKey {
    SigningKey::generate()
}

fn small_opts() -> Options {
    Options {
        segment_max_bytes: 4096,
        checkpoint_every_records: 50,
        ..Options::default()
    }
}

/// Where the last record of the ledger ends (zero padding may follow).
fn data_end(dir: &Path) -> u64 {
    match Entries::new(dir, 1).unwrap().last() {
        Some(last) => {
            let last = last.unwrap();
            last.offset + 4 + last.body.len() as u64 + 32
        }
        None => 0,
    }
}

fn check_ok(dir: &Path, key: &SigningKey) -> u64 {
    let r = verify(dir, &key.verifying_key(), &VerifyOptions::default()).unwrap();
    assert!(r.ok(), "verify failed: {}", r.problem.unwrap());
    r.records
}

#[test]
fn append_reopen_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    {
        let l = Ledger::open_with(dir.path(), k.clone(), small_opts()).unwrap();
        for i in 1..=120 {
            assert_eq!(l.append(&event(i)).unwrap(), i);
        }
        l.close().unwrap();
    }
    let l = Ledger::open_with(dir.path(), k.clone(), small_opts()).unwrap();
    assert_eq!(l.len(), 120);
    assert_eq!(
        l.append_batch(&[event(121), event(122)]).unwrap(),
        Some(122)
    );
    l.close().unwrap();
    assert_eq!(check_ok(dir.path(), &k), 122);
    let all: Vec<_> = records(dir.path(), 1)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all.len(), 122);
    assert!(shuan_ledger::reader::segments(dir.path()).unwrap().len() > 3);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
        assert_eq!(
            r.request_id.as_deref(),
            Some(format!("req-{}", i + 1).as_str())
        );
    }
}

#[test]
fn wrong_key_and_second_writer_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let l = Ledger::open(dir.path(), k.clone()).unwrap();
    assert!(matches!(
        Ledger::open(dir.path(), k.clone()),
        Err(LedgerError::Locked(_))
    ));
    drop(l);
    assert!(matches!(
        Ledger::open(dir.path(), key()),
        Err(LedgerError::KeyMismatch(_))
    ));
    let short = Options {
        retention_days: 30,
        ..Options::default()
    };
    assert!(matches!(
        Ledger::open_with(dir.path(), k, short),
        Err(LedgerError::RetentionTooShort(30))
    ));
}

#[test]
fn concurrent_appenders_get_unique_contiguous_sequence_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let l = Ledger::open_with(dir.path(), k.clone(), small_opts()).unwrap();
    let mut got: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|t| {
                let l = &l;
                s.spawn(move || {
                    (0..200)
                        .map(|i| {
                            let seq = l.append(&event(t * 1000 + i)).unwrap();
                            assert!(l.len() >= seq, "acknowledged before durable");
                            seq
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    got.sort();
    assert_eq!(got, (1..=1600).collect::<Vec<_>>());
    l.close().unwrap();
    assert_eq!(check_ok(dir.path(), &k), 1600);
}

#[test]
fn inclusion_and_consistency_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let l = Ledger::open_with(dir.path(), k.clone(), small_opts()).unwrap();
    for i in 1..=37 {
        l.append(&event(i)).unwrap();
        if i == 5 || i == 16 {
            l.checkpoint().unwrap();
        }
    }
    l.close().unwrap();
    let vk = k.verifying_key();
    for seq in 1..=37 {
        let p = prove::prove_inclusion(dir.path(), seq, None).unwrap();
        p.check(&vk).unwrap();
        // Round trip through JSON, as `check-proof` reads it.
        let back: shuan_ledger::Proof =
            serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        back.check(&vk).unwrap();
        let mut text = serde_json::to_string(&p).unwrap();
        text = text.replacen("req-", "reQ-", 1);
        let bad: shuan_ledger::Proof = serde_json::from_str(&text).unwrap();
        assert!(bad.check(&vk).is_err(), "altered record must not verify");
        assert!(
            p.check(&key().verifying_key()).is_err(),
            "another key must not verify"
        );
    }
    let cps = prove::checkpoints(dir.path()).unwrap();
    assert_eq!(
        cps.iter().map(|c| c.size).collect::<Vec<_>>(),
        vec![5, 16, 37]
    );
    for a in &cps {
        for b in &cps {
            if a.size <= b.size {
                let p = prove::prove_consistency(dir.path(), a, b).unwrap();
                p.check(&vk).unwrap();
            }
        }
    }
    assert!(prove::prove_inclusion(dir.path(), 38, None).is_err());
}

/// Builds a small ledger: `n` records, one checkpoint covering all, one segment.
fn small_ledger(n: u64) -> (tempfile::TempDir, SigningKey, PathBuf, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let l = Ledger::open(dir.path(), k.clone()).unwrap();
    for i in 1..=n {
        l.append(&event(i)).unwrap();
    }
    l.close().unwrap();
    let seg = shuan_ledger::reader::segments(dir.path()).unwrap()[0]
        .path
        .clone();
    let offsets: Vec<u64> = Entries::new(dir.path(), 1)
        .unwrap()
        .map(|e| e.unwrap().offset)
        .collect();
    (dir, k, seg, offsets)
}

/// The record whose entry holds byte `pos` (1-based seq), or 1 for header bytes.
fn owner(offsets: &[u64], pos: u64) -> u64 {
    match offsets.iter().rposition(|&o| o <= pos) {
        Some(i) => i as u64 + 1,
        None => 1,
    }
}

fn expect_problem_at(dir: &Path, k: &SigningKey, seq: u64, what: &str) {
    let r = verify(dir, &k.verifying_key(), &VerifyOptions::default()).unwrap();
    let p = r.problem.unwrap_or_else(|| panic!("{what}: not detected"));
    assert_eq!(p.seq, Some(seq), "{what}: reported {p}");
    // Checking on one thread or on several names the same first problem, identically.
    for threads in [1, 3] {
        let q = verify_with_threads(dir, &k.verifying_key(), &VerifyOptions::default(), threads)
            .unwrap();
        assert_eq!(q.problem.as_ref(), Some(&p), "{what}: {threads} threads");
    }
}

#[test]
fn every_modified_deleted_or_inserted_byte_is_reported_at_its_record() {
    let (dir, k, seg, offsets) = small_ledger(4);
    let orig = std::fs::read(&seg).unwrap();
    let n = offsets.len() as u64;
    for pos in 0..orig.len() {
        let who = owner(&offsets, pos as u64);
        for flip in [0x01u8, 0x80] {
            let mut b = orig.clone();
            b[pos] ^= flip;
            std::fs::write(&seg, &b).unwrap();
            expect_problem_at(
                dir.path(),
                &k,
                who,
                &format!("flip {flip:#x} at byte {pos}"),
            );
        }
        // Deleting any byte of a run of equal bytes gives the same file, which first
        // differs from the original at the run's last byte; inserting `x` before bytes
        // that are `x` already is inserting it after them. The record reported is the
        // one holding the first byte that differs (a 1-in-256 coincidence of the random
        // hashes otherwise made this test fail now and then).
        let run_end = (pos..orig.len())
            .take_while(|&i| orig[i] == orig[pos])
            .last()
            .unwrap_or(pos);
        let mut b = orig.clone();
        b.remove(pos);
        std::fs::write(&seg, &b).unwrap();
        let who_delete = owner(&offsets, run_end as u64);
        expect_problem_at(dir.path(), &k, who_delete, &format!("delete byte {pos}"));
        let differs = (pos..orig.len())
            .find(|&i| orig[i] != b'x')
            .unwrap_or(orig.len());
        let mut b = orig.clone();
        b.insert(pos, b'x');
        std::fs::write(&seg, &b).unwrap();
        let who_insert = owner(&offsets, differs as u64);
        expect_problem_at(dir.path(), &k, who_insert, &format!("insert byte at {pos}"));
    }
    // A non-zero byte appended after the last record: an incomplete record n+1.
    for byte in [0x01u8, 0x80, b'x'] {
        let mut b = orig.clone();
        b.push(byte);
        std::fs::write(&seg, &b).unwrap();
        expect_problem_at(dir.path(), &k, n + 1, &format!("byte {byte:#x} appended"));
    }
    // Zero bytes after the last record are preallocated space: no record, no problem;
    // but anything non-zero after them is.
    for zeros in [1usize, 3, 4, 5, 4096, 70_000] {
        let mut b = orig.clone();
        b.resize(orig.len() + zeros, 0);
        std::fs::write(&seg, &b).unwrap();
        assert_eq!(check_ok(dir.path(), &k), n, "{zeros} zero bytes appended");
        for at in [orig.len(), orig.len() + zeros / 2, orig.len() + zeros - 1] {
            let mut b2 = b.clone();
            b2[at] = 1;
            std::fs::write(&seg, &b2).unwrap();
            expect_problem_at(
                dir.path(),
                &k,
                n + 1,
                &format!("non-zero byte at {at} in {zeros} zero bytes"),
            );
        }
    }
    std::fs::write(&seg, &orig).unwrap();
    check_ok(dir.path(), &k);

    // Checkpoint and identity files: every flipped byte is reported.
    for name in ["checkpoints.jsonl", "ledger.json"] {
        let p = dir.path().join(name);
        let o = std::fs::read(&p).unwrap();
        for pos in 0..o.len() {
            let mut b = o.clone();
            b[pos] ^= 0x01;
            std::fs::write(&p, &b).unwrap();
            let r = verify(dir.path(), &k.verifying_key(), &VerifyOptions::default()).unwrap();
            assert!(r.problem.is_some(), "{name} byte {pos} flip not detected");
        }
        std::fs::write(&p, &o).unwrap();
    }
    check_ok(dir.path(), &k);
}

#[test]
fn every_deleted_duplicated_or_swapped_record_is_reported() {
    let (dir, k, seg, offsets) = small_ledger(5);
    let orig = std::fs::read(&seg).unwrap();
    let mut bounds: Vec<usize> = offsets.iter().map(|&o| o as usize).collect();
    bounds.push(orig.len());
    let entry = |i: usize| orig[bounds[i]..bounds[i + 1]].to_vec();
    let n = offsets.len();
    let rebuild = |order: &[usize]| {
        let mut b = orig[..bounds[0]].to_vec();
        for &i in order {
            b.extend_from_slice(&entry(i));
        }
        b
    };
    for del in 0..n {
        let order: Vec<usize> = (0..n).filter(|&i| i != del).collect();
        std::fs::write(&seg, rebuild(&order)).unwrap();
        expect_problem_at(
            dir.path(),
            &k,
            del as u64 + 1,
            &format!("delete record {}", del + 1),
        );
    }
    for dup in 0..n {
        let mut order: Vec<usize> = (0..n).collect();
        order.insert(dup + 1, dup);
        std::fs::write(&seg, rebuild(&order)).unwrap();
        expect_problem_at(
            dir.path(),
            &k,
            dup as u64 + 2,
            &format!("duplicate record {}", dup + 1),
        );
    }
    for a in 0..n - 1 {
        let mut order: Vec<usize> = (0..n).collect();
        order.swap(a, a + 1);
        std::fs::write(&seg, rebuild(&order)).unwrap();
        expect_problem_at(
            dir.path(),
            &k,
            a as u64 + 1,
            &format!("swap records {} and {}", a + 1, a + 2),
        );
    }
    // Cutting whole records off the end is caught by the signed checkpoint.
    std::fs::write(&seg, rebuild(&[0, 1, 2])).unwrap();
    expect_problem_at(dir.path(), &k, 4, "truncate records 4..5");
    std::fs::write(&seg, &orig).unwrap();
    check_ok(dir.path(), &k);
}

#[test]
fn truncation_after_the_last_local_checkpoint_is_caught_by_a_published_one() {
    let (dir, k, seg, offsets) = small_ledger(5);
    let published = prove::checkpoints(dir.path()).unwrap();
    // The attacker cuts record 5 and the local checkpoint, leaving a consistent prefix.
    let orig = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &orig[..offsets[4] as usize]).unwrap();
    std::fs::write(dir.path().join("checkpoints.jsonl"), "").unwrap();
    check_ok(dir.path(), &k); // undetectable from the directory alone
    let r = verify(
        dir.path(),
        &k.verifying_key(),
        &VerifyOptions { anchors: published },
    )
    .unwrap();
    assert_eq!(
        r.problem
            .expect("detected with the published checkpoint")
            .seq,
        Some(5)
    );
}

#[test]
fn random_flips_in_a_large_multi_segment_ledger_are_reported_at_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let opts = Options {
        segment_max_bytes: 256 << 10,
        checkpoint_every_records: 1000,
        ..Options::default()
    };
    let l = Ledger::open_with(dir.path(), k.clone(), opts).unwrap();
    let events: Vec<Event> = (1..=20_000).map(event).collect();
    for chunk in events.chunks(500) {
        l.append_batch(chunk).unwrap();
    }
    l.close().unwrap();
    let entries: Vec<(PathBuf, u64, u64)> = Entries::new(dir.path(), 1)
        .unwrap()
        .map(|e| e.map(|e| (e.path, e.offset, e.seq)).unwrap())
        .collect();
    let segs = shuan_ledger::reader::segments(dir.path()).unwrap();
    assert!(segs.len() > 5);
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let trials: usize = std::env::var("SHUAN_LEDGER_TAMPER_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    for _ in 0..trials {
        let seg = &segs[(next() % segs.len() as u64) as usize];
        let orig = std::fs::read(&seg.path).unwrap();
        let pos = (next() % orig.len() as u64) as usize;
        let in_seg: Vec<&(PathBuf, u64, u64)> =
            entries.iter().filter(|e| e.0 == seg.path).collect();
        let who = match in_seg.iter().rposition(|e| e.1 <= pos as u64) {
            Some(i) => in_seg[i].2,
            None => in_seg[0].2,
        };
        let mut b = orig.clone();
        b[pos] ^= 1 << (next() % 8);
        std::fs::write(&seg.path, &b).unwrap();
        expect_problem_at(
            dir.path(),
            &k,
            who,
            &format!("flip in {} at {pos}", seg.path.display()),
        );
        std::fs::write(&seg.path, &orig).unwrap();
    }
    assert_eq!(check_ok(dir.path(), &k), 20_000);
}

#[test]
fn torn_tail_is_cut_on_open_but_covered_damage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let opts = Options {
        checkpoint_every_records: 1_000_000,
        ..Options::default()
    };
    let l = Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap();
    for i in 1..=10 {
        l.append(&event(i)).unwrap();
    }
    l.checkpoint().unwrap(); // covers 10
    for i in 11..=12 {
        l.append(&event(i)).unwrap();
    }
    drop(l); // crash: no final checkpoint
    let seg = shuan_ledger::reader::segments(dir.path()).unwrap()[0]
        .path
        .clone();
    let len = data_end(dir.path());
    // Tear record 12 in the middle.
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 20).unwrap();
    drop(f);
    let l = Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap();
    assert_eq!(l.len(), 11);
    assert!(l.recovery().torn_bytes > 0);
    assert!(l.recovery().saved_to.as_ref().unwrap().exists());
    assert_eq!(l.append(&event(99)).unwrap(), 12);
    l.close().unwrap();
    check_ok(dir.path(), &k);

    // Zero-filled garbage after the end (blocks allocated but never written).
    let mut b = std::fs::read(&seg).unwrap();
    b.extend_from_slice(&[0u8; 100]);
    std::fs::write(&seg, &b).unwrap();
    let l = Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap();
    assert_eq!(l.len(), 12);
    drop(l);

    // Damage inside records covered by a checkpoint is not a torn write: refuse.
    let mut b = std::fs::read(&seg).unwrap();
    let at = data_end(dir.path()) as usize - 10;
    b[at] ^= 1;
    std::fs::write(&seg, &b).unwrap();
    assert!(matches!(
        Ledger::open_with(dir.path(), k, opts),
        Err(LedgerError::Corrupt { .. })
    ));
}

#[test]
fn archive_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let l = Ledger::open_with(dir.path(), k.clone(), small_opts()).unwrap();
    for i in 1..=60u64 {
        let mut e = event(i);
        // The first 30 records happened 400 days ago.
        if i <= 30 {
            e.time = Some(Timestamp::now().plus_days(-400));
        }
        l.append(&e).unwrap();
    }
    l.checkpoint().unwrap();
    // Nothing archived yet: nothing may be deleted.
    assert!(l.prune_expired(Timestamp::now()).unwrap().is_empty());
    let archived = l.archive_sealed().unwrap();
    assert!(!archived.is_empty());
    check_ok(dir.path(), &k);
    assert_eq!(records(dir.path(), 1).unwrap().count(), 60);
    // Within retention (as seen 100 days ago), nothing is deleted.
    assert!(l
        .prune_expired(Timestamp::now().plus_days(-300))
        .unwrap()
        .is_empty());
    let gone = l.prune_expired(Timestamp::now()).unwrap();
    assert!(!gone.is_empty());
    let rest: Vec<_> = records(dir.path(), 1)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(rest.len() < 60 && rest.len() >= 30, "{}", rest.len());
    assert_eq!(rest.last().unwrap().seq, 60);
    check_ok(dir.path(), &k);
    // Appending continues after pruning and the result still verifies.
    l.append(&event(61)).unwrap();
    l.close().unwrap();
    check_ok(dir.path(), &k);
    // An altered archive is reported as a problem (not as an error inflating it), wherever
    // the change is: in the gzip header, the deflate stream or the trailer.
    let a = shuan_ledger::reader::segments(dir.path())
        .unwrap()
        .into_iter()
        .find(|s| s.archived);
    if let Some(a) = a {
        let good = std::fs::read(&a.path).unwrap();
        for at in (0..good.len()).step_by(good.len().div_ceil(150)) {
            let mut b = good.clone();
            b[at] ^= 1;
            std::fs::write(&a.path, &b).unwrap();
            let r = verify(dir.path(), &k.verifying_key(), &VerifyOptions::default());
            assert!(
                matches!(&r, Ok(rep) if rep.problem.is_some()),
                "byte {at} of {} flipped: {:?}",
                good.len(),
                r.map(|rep| rep.problem)
            );
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append(u8),
    Checkpoint,
    Reopen,
    CrashWithGarbage(Vec<u8>),
    Archive,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u8..20).prop_map(Op::Append),
        1 => Just(Op::Checkpoint),
        1 => Just(Op::Reopen),
        1 => proptest::collection::vec(any::<u8>(), 1..60).prop_map(Op::CrashWithGarbage),
        1 => Just(Op::Archive),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random operation sequences against a model (the list of acknowledged events):
    /// what was acknowledged is exactly what is stored, and the ledger always verifies.
    #[test]
    fn random_operations_match_the_model(ops in proptest::collection::vec(op(), 1..25)) {
        let dir = tempfile::tempdir().unwrap();
        let k = key();
        let opts = Options { segment_max_bytes: 2048, checkpoint_every_records: 7, ..Options::default() };
        let mut model: Vec<String> = Vec::new();
        let mut l = Some(Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap());
        let mut n = 0u64;
        for o in ops {
            match o {
                Op::Append(c) => {
                    let evs: Vec<Event> = (0..c as u64).map(|_| { n += 1; let mut e = event(n); e.request_id = Some(format!("m{n}")); e }).collect();
                    let last = l.as_ref().unwrap().append_batch(&evs).unwrap().unwrap();
                    for e in &evs { model.push(e.request_id.clone().unwrap()); }
                    prop_assert_eq!(last, model.len() as u64);
                }
                Op::Checkpoint => { l.as_ref().unwrap().checkpoint().unwrap(); }
                Op::Reopen => {
                    l.take().unwrap().close().unwrap();
                    l = Some(Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap());
                }
                Op::CrashWithGarbage(g) => {
                    drop(l.take());
                    let segs = shuan_ledger::reader::segments(dir.path()).unwrap();
                    let last = segs.last().unwrap();
                    let mut b = std::fs::read(&last.path).unwrap();
                    b.extend_from_slice(&g);
                    std::fs::write(&last.path, &b).unwrap();
                    let reopened = Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap();
                    prop_assert_eq!(reopened.len(), model.len() as u64);
                    l = Some(reopened);
                }
                Op::Archive => { l.as_ref().unwrap().archive_sealed().unwrap(); }
            }
            let stored: Vec<String> = records(dir.path(), 1).unwrap().map(|r| r.unwrap().request_id.unwrap()).collect();
            prop_assert_eq!(&stored, &model);
            let r = verify(dir.path(), &k.verifying_key(), &VerifyOptions::default()).unwrap();
            prop_assert!(r.ok(), "{}", r.problem.unwrap());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Bad input never panics: arbitrary segment bytes, record bytes, times and proofs.
    #[test]
    fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600), text in ".{0,80}") {
        if let Ok(mut r) = shuan_ledger::segment::SegmentReader::new(&data[..]) {
            let mut body = Vec::new();
            while let Ok(Some(_)) = r.next_entry(&mut body) {}
        }
        let mut seg = shuan_ledger::segment::SegmentHeader {
            first_seq: 1,
            prev_hash: [0; 32],
            frontier: shuan_ledger::merkle::Frontier::new(),
        }
        .encode();
        seg.extend_from_slice(&data);
        if let Ok(mut r) = shuan_ledger::segment::SegmentReader::new(&seg[..]) {
            let mut body = Vec::new();
            while let Ok(Some(_)) = r.next_entry(&mut body) {}
        }
        let _ = shuan_ledger::Record::from_canonical(&data);
        let _ = Timestamp::parse(&text);
        let _ = serde_json::from_str::<shuan_ledger::Proof>(&text);
        if let Ok(e) = serde_json::from_str::<Event>(&text) {
            let _ = e.prepare();
        }
    }
}

#[test]
fn zero_padding_is_not_a_torn_tail_but_garbage_after_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let l = Ledger::open(dir.path(), k.clone()).unwrap();
    for i in 1..=5 {
        l.append(&event(i)).unwrap();
    }
    drop(l); // crash: the preallocated zeros stay
    let seg = shuan_ledger::reader::segments(dir.path()).unwrap()[0]
        .path
        .clone();
    let end = data_end(dir.path());
    let file_len = std::fs::metadata(&seg).unwrap().len();
    assert!(file_len > end + 4096, "segment is preallocated");
    let l = Ledger::open(dir.path(), k.clone()).unwrap();
    assert_eq!(l.len(), 5);
    assert_eq!(l.recovery().torn_bytes, 0);
    assert!(l.recovery().saved_to.is_none());
    drop(l);
    assert_eq!(check_ok(dir.path(), &k), 5);

    // Non-zero bytes inside the zero area (a torn write whose first pages never reached
    // the disk): verify reports them, open saves and cuts them.
    let mut b = std::fs::read(&seg).unwrap();
    b[end as usize + 1000] = 0x7f;
    std::fs::write(&seg, &b).unwrap();
    expect_problem_at(dir.path(), &k, 6, "garbage after zero padding");
    assert_eq!(Entries::new(dir.path(), 1).unwrap().count(), 5);
    let l = Ledger::open(dir.path(), k.clone()).unwrap();
    assert_eq!(l.len(), 5);
    assert_eq!(l.recovery().torn_bytes, b.len() as u64 - end);
    let saved = std::fs::read(l.recovery().saved_to.as_ref().unwrap()).unwrap();
    assert_eq!(saved[1000], 0x7f);
    assert_eq!(l.append(&event(6)).unwrap(), 6);
    l.close().unwrap();
    assert_eq!(check_ok(dir.path(), &k), 6);
    // A closed ledger keeps no padding.
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), data_end(dir.path()));

    // A zero hole before a later record is damage, not padding.
    let offsets: Vec<u64> = Entries::new(dir.path(), 1)
        .unwrap()
        .map(|e| e.unwrap().offset)
        .collect();
    let orig = std::fs::read(&seg).unwrap();
    let mut b = orig.clone();
    for x in &mut b[offsets[3] as usize..offsets[4] as usize] {
        *x = 0;
    }
    std::fs::write(&seg, &b).unwrap();
    expect_problem_at(dir.path(), &k, 4, "record 4 zeroed");
    std::fs::write(&seg, &orig).unwrap();
    check_ok(dir.path(), &k);
}

#[test]
fn crash_around_a_segment_roll_opens_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let opts = small_opts();
    let l = Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap();
    let mut n = 0;
    // Fill the first segment to its limit, so the next commit rolls.
    while data_end(dir.path()) < opts.segment_max_bytes {
        n += 1;
        l.append(&event(n)).unwrap();
    }
    drop(l); // crash before the roll: the full segment still has its padding
    let first = shuan_ledger::reader::segments(dir.path()).unwrap();
    assert_eq!(first.len(), 1);
    // The roll cuts the full segment first; a crash right after leaves it cut and no
    // new segment.
    let end = data_end(dir.path());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&first[0].path)
        .unwrap()
        .set_len(end)
        .unwrap();
    // ...possibly with the next segment half-created under its temporary name.
    let tmp = dir.path().join(format!("seg-{:020}.log.tmp", n + 1));
    std::fs::write(&tmp, b"SHUANLG1\x07").unwrap();
    let l = Ledger::open_with(dir.path(), k.clone(), opts.clone()).unwrap();
    assert_eq!(l.len(), n);
    assert_eq!(l.recovery().torn_bytes, 0);
    assert!(!tmp.exists(), "the unfinished segment is removed");
    n += 1;
    assert_eq!(l.append(&event(n)).unwrap(), n);
    drop(l);
    let segs = shuan_ledger::reader::segments(dir.path()).unwrap();
    assert_eq!(segs.len(), 2);
    // Sealed segments hold no padding.
    assert_eq!(std::fs::metadata(&segs[0].path).unwrap().len(), end);
    assert_eq!(check_ok(dir.path(), &k), n);

    // A sealed segment that still has zero padding (had the order been the other way
    // round) reads the same: zeros are no records.
    let mut b = std::fs::read(&segs[0].path).unwrap();
    b.resize(b.len() + 10_000, 0);
    std::fs::write(&segs[0].path, &b).unwrap();
    assert_eq!(check_ok(dir.path(), &k), n);
    let l = Ledger::open_with(dir.path(), k.clone(), opts).unwrap();
    assert_eq!(l.len(), n);
    n += 1;
    assert_eq!(l.append(&event(n)).unwrap(), n);
    l.close().unwrap();
    assert_eq!(check_ok(dir.path(), &k), n);
    assert_eq!(records(dir.path(), 1).unwrap().count() as u64, n);
}

/// A reader that follows the live ledger resumes where it stopped, across segment
/// rolls and through the zero-padded tail, and sees exactly the records a full read
/// from that sequence number sees.
#[test]
fn entries_resume_where_the_last_pass_stopped() {
    use shuan_ledger::reader::Resume;
    let dir = tempfile::tempdir().unwrap();
    // Small segments, so passes cross segment rolls.
    let ledger = Ledger::open_with(dir.path(), key(), small_opts()).unwrap();
    let mut at: Option<Resume> = None;
    let mut next = 1u64;
    let mut appended = 0u64;
    for round in 0..12u64 {
        for _ in 0..(round * 3 + 1) {
            appended += 1;
            ledger.append(&event(appended)).unwrap();
        }
        let mut entries = match &at {
            Some(r) => Entries::resume(dir.path(), r).unwrap(),
            None => Entries::new(dir.path(), next).unwrap(),
        };
        let mut seen = Vec::new();
        while let Some(e) = entries.next() {
            let e = e.unwrap();
            seen.push((e.seq, e.body));
            at = entries.stopped_at();
        }
        let expected: Vec<(u64, Vec<u8>)> = Entries::new(dir.path(), next)
            .unwrap()
            .map(|e| e.map(|e| (e.seq, e.body)).unwrap())
            .collect();
        assert_eq!(seen, expected, "round {round}");
        assert_eq!(
            seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            (next..=appended).collect::<Vec<_>>()
        );
        next = appended + 1;
        assert_eq!(at.as_ref().map(|r| r.seq), Some(next));
    }
    assert!(
        shuan_ledger::reader::segments(dir.path()).unwrap().len() > 3,
        "the passes crossed several segments"
    );
    // A position in a segment that is no longer live reads by sequence number instead.
    let gone = Resume {
        seq: 5,
        path: dir.path().join("no-such-segment"),
        offset: 1 << 20,
    };
    let from_five: Vec<u64> = Entries::resume(dir.path(), &gone)
        .unwrap()
        .map(|e| e.unwrap().seq)
        .collect();
    assert_eq!(from_five, (5..=appended).collect::<Vec<_>>());
}
