//! Async appenders (`Ledger::append_async`) on a tokio multi-thread runtime, alone and
//! mixed with blocking appenders and checkpoints: unique gap-free sequence numbers,
//! acknowledgement only after durability, a verifiable ledger, and committer threads
//! that neither hang close/drop nor lose records queued by dropped futures.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use shuan_crypto::sm2::SigningKey;
use shuan_ledger::{verify, Actor, ActorKind, Event, Ledger, Options, Outcome, VerifyOptions};

fn event(i: u64) -> Event {
    let mut details = serde_json::Map::new();
    details.insert("rows".into(), serde_json::json!(i));
    Event {
        time: None,
        actor: Actor {
            kind: ActorKind::User,
            id: format!("user{}", i % 7),
            department: Some("民政局".into()),
            role: None,
        },
        action: "export".into(),
        object: format!("pg:civil.t{}", i % 5),
        purpose: Some("统计".into()),
        outcome: Outcome::Allowed,
        client: None,
        request_id: Some(format!("req-{i}")),
        details,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

fn verified_count(dir: &std::path::Path, key: &SigningKey) -> u64 {
    let r = verify(dir, &key.verifying_key(), &VerifyOptions::default()).unwrap();
    assert!(r.ok(), "verify failed: {}", r.problem.unwrap());
    r.records
}

#[test]
fn async_and_blocking_appenders_and_checkpoints_at_once() {
    // One commit at a time (a single committer thread), the default, and more.
    for syncs in [1, 2, 3] {
        mixed_appenders(syncs);
    }
}

fn mixed_appenders(concurrent_syncs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate();
    let opts = Options {
        // Small segments and frequent checkpoints: rolls and signing happen under load.
        segment_max_bytes: 64 << 10,
        checkpoint_every_records: 500,
        concurrent_syncs,
        ..Options::default()
    };
    let ledger = Arc::new(Ledger::open_with(dir.path(), key.clone(), opts).unwrap());
    let rt = runtime();
    const TASKS: u64 = 200;
    const PER_TASK: u64 = 15;
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 60;

    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let l = Arc::clone(&ledger);
            std::thread::spawn(move || {
                let mut seqs = Vec::new();
                for i in 0..PER_THREAD {
                    let seq = l.append(&event(1_000_000 + t * 1000 + i)).unwrap();
                    assert!(l.len() >= seq, "acknowledged before durable");
                    seqs.push(seq);
                    if i % 20 == 19 {
                        let cp = l.checkpoint().unwrap();
                        assert!(cp.size >= seq);
                    }
                }
                seqs
            })
        })
        .collect();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let l = Arc::clone(&ledger);
            rt.spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..PER_TASK {
                    let n = t * 1000 + i;
                    if i % 5 == 4 {
                        // A batch of three: consecutive numbers, the last one returned.
                        let evs = [event(n), event(n + 500), event(n + 700)];
                        let last = l.append_batch_async(&evs).await.unwrap().unwrap();
                        assert!(l.len() >= last, "acknowledged before durable");
                        seqs.extend([last - 2, last - 1, last]);
                    } else {
                        let seq = l.append_async(&event(n)).await.unwrap();
                        assert!(l.len() >= seq, "acknowledged before durable");
                        seqs.push(seq);
                    }
                }
                seqs
            })
        })
        .collect();
    let mut got: Vec<u64> = rt.block_on(async {
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    for t in threads {
        got.extend(t.join().unwrap());
    }
    got.sort_unstable();
    let n = TASKS * (PER_TASK + 2 * (PER_TASK / 5)) + THREADS * PER_THREAD;
    assert_eq!(
        got,
        (1..=n).collect::<Vec<_>>(),
        "sequence numbers unique, no gap"
    );
    assert_eq!(ledger.len(), n);
    assert_eq!(rt.block_on(ledger.append_batch_async(&[])).unwrap(), None);
    Arc::into_inner(ledger).unwrap().close().unwrap();
    assert_eq!(verified_count(dir.path(), &key), n);
}

#[test]
fn dropping_or_closing_a_ledger_with_committer_threads_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate();
    let rt = runtime();
    {
        let l = Ledger::open(dir.path(), key.clone()).unwrap();
        let seqs: Vec<u64> = rt.block_on(async {
            let mut v = Vec::new();
            for i in 0..5 {
                v.push(l.append_async(&event(i)).await.unwrap());
            }
            v
        });
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        // Dropped without close: the committer threads stop and the lock is released.
    }
    let l = Ledger::open(dir.path(), key.clone()).unwrap();
    assert_eq!(l.len(), 5);
    assert_eq!(rt.block_on(l.append_async(&event(5))).unwrap(), 6);
    l.close().unwrap();
    assert_eq!(verified_count(dir.path(), &key), 6);
}

#[test]
fn a_record_queued_by_a_dropped_future_is_committed_by_close() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate();
    let l = Ledger::open(dir.path(), key.clone()).unwrap();
    // An unpolled future has queued nothing.
    drop(l.append_async(&event(0)));
    // Polled once (queued), then dropped before its outcome: the record is not
    // withdrawn, and close must neither hang on it nor leave it unwritten.
    let mut fut = l.append_async(&event(1));
    let mut cx = Context::from_waker(Waker::noop());
    if let Poll::Ready(r) = std::pin::Pin::new(&mut fut).poll(&mut cx) {
        panic!("acknowledged at the first poll: {r:?}");
    }
    drop(fut);
    l.close().unwrap();
    assert_eq!(verified_count(dir.path(), &key), 1);
    let l = Ledger::open(dir.path(), key.clone()).unwrap();
    assert_eq!(l.len(), 1);
}

#[test]
fn an_invalid_event_fails_its_future_without_queuing() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate();
    let l = Ledger::open(dir.path(), key.clone()).unwrap();
    let mut bad = event(0);
    bad.actor.id.clear();
    let rt = runtime();
    assert!(rt.block_on(l.append_async(&bad)).is_err());
    assert!(rt.block_on(l.append_batch_async(&[event(1), bad])).is_err());
    assert_eq!(rt.block_on(l.append_async(&event(2))).unwrap(), 1);
    l.close().unwrap();
    assert_eq!(verified_count(dir.path(), &key), 1);
}
