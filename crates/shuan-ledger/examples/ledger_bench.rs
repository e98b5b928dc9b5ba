//! Ledger benchmark: durable appends/s with 1, 8, 64 and 256 concurrent appenders as OS
//! threads (`append`, blocking) and 64 and 256 as tasks on a tokio runtime with one worker
//! per core (`append_async`), one event per call and 100 events per call; verify MB/s
//! beside raw SM3 MB/s; and the same events inserted into PostgreSQL in the same run (one
//! row per event, each committed), by as many blocking clients (`postgres`, one thread
//! each) or async clients (`tokio-postgres`, one task and one connection each).
//!
//! `cargo run --release -p shuan-ledger --example ledger_bench -- [--postgres URL]
//!  [--seconds S] [--verify-mb MB] [--dir DIR] [--threads 1,8,64,256] [--tasks 64,256]
//!  [--per-call 1,100]`; driven by `bench/ledger-vs-postgres.sh`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shuan_crypto::sm2::SigningKey;
use shuan_ledger::{
    verify, verify_with_threads, Actor, ActorKind, Event, Ledger, Options, Outcome, VerifyOptions,
};

fn event(t: u64, i: u64) -> Event {
    let mut details = serde_json::Map::new();
    details.insert("rows".into(), serde_json::json!(i % 1000));
    details.insert(
        "columns".into(),
        serde_json::json!(["name", "id_no", "phone"]),
    );
    details.insert("rule_set".into(), serde_json::json!("共享-有条件"));
    Event {
        time: None,
        actor: Actor {
            kind: ActorKind::User,
            id: format!("user{}", t % 50),
            department: Some("市大数据局".into()),
            role: Some("analyst".into()),
        },
        action: "export".into(),
        object: format!("pg:civil.residents.t{}", i % 10),
        purpose: Some("统计分析".into()),
        outcome: Outcome::Allowed,
        client: Some(shuan_ledger::Client {
            address: Some("10.12.0.7".into()),
            agent: Some("shuan-cli/0.1".into()),
        }),
        request_id: Some(format!("req-{t}-{i}")),
        details,
    }
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 Hz).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat; `after` starts at field 3.
    (ticks(11) + ticks(12)) / 100.0
}

/// The 1-minute load average.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .next()
        .unwrap_or("?")
        .to_string()
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn bench_options() -> Options {
    let mut opts = Options::default();
    if let Some(n) = arg("--syncs").and_then(|s| s.parse().ok()) {
        opts.concurrent_syncs = n;
    }
    opts
}

/// Durable events/s and CPU microseconds (all threads of this process) per event.
fn ledger_rate(base: &std::path::Path, threads: u64, per_call: u64, secs: f64) -> (f64, f64) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let ledger = Ledger::open_with(dir.path(), SigningKey::generate(), bench_options()).unwrap();
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let cpu0 = process_cpu_seconds();
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (ledger, stop, total) = (&ledger, &stop, &total);
            s.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let evs: Vec<Event> = (0..per_call).map(|k| event(t, i + k)).collect();
                    ledger.append_batch(&evs).expect("durable append");
                    i += per_call;
                    total.fetch_add(per_call, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let n = total.load(Ordering::Relaxed) as f64;
    let rate = n / start.elapsed().as_secs_f64();
    let cpu_us = (process_cpu_seconds() - cpu0) * 1e6 / n;
    ledger.close().unwrap();
    (rate, cpu_us)
}

/// Lets the spawned tasks run for `secs`, then raises `stop` and waits for all of them.
fn stop_after(
    rt: &tokio::runtime::Runtime,
    secs: f64,
    stop: &AtomicBool,
    handles: Vec<tokio::task::JoinHandle<()>>,
) {
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
}

fn runtime() -> tokio::runtime::Runtime {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap()
}

/// [`ledger_rate`] with `tasks` async appenders (`append_async`) on a tokio runtime with
/// one worker thread per core.
fn ledger_async_rate(base: &std::path::Path, tasks: u64, per_call: u64, secs: f64) -> (f64, f64) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let ledger =
        Arc::new(Ledger::open_with(dir.path(), SigningKey::generate(), bench_options()).unwrap());
    let rt = runtime();
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let cpu0 = process_cpu_seconds();
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (ledger, stop, total) = (ledger.clone(), stop.clone(), total.clone());
            rt.spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    if per_call == 1 {
                        ledger
                            .append_async(&event(t, i))
                            .await
                            .expect("durable append");
                    } else {
                        let evs: Vec<Event> = (0..per_call).map(|k| event(t, i + k)).collect();
                        ledger
                            .append_batch_async(&evs)
                            .await
                            .expect("durable append");
                    }
                    i += per_call;
                    total.fetch_add(per_call, Ordering::Relaxed);
                }
            })
        })
        .collect();
    stop_after(&rt, secs, &stop, handles);
    let n = total.load(Ordering::Relaxed) as f64;
    let rate = n / start.elapsed().as_secs_f64();
    let cpu_us = (process_cpu_seconds() - cpu0) * 1e6 / n;
    drop(rt);
    Arc::into_inner(ledger).unwrap().close().unwrap();
    (rate, cpu_us)
}

const PG_TABLE: &str = "DROP TABLE IF EXISTS shuan_ledger_bench_events;
    CREATE TABLE shuan_ledger_bench_events (
        seq bigserial PRIMARY KEY, time timestamptz NOT NULL, actor_kind text, actor text,
        department text, role text, action text, object text, purpose text, outcome text,
        client_address text, client_agent text, request_id text, details jsonb)";

/// The values of one event as PG_INSERT's parameters (the same for both clients; `None`
/// is SQL NULL).
fn pg_row(e: &Event) -> [Option<String>; 12] {
    let client = e.client.clone().unwrap_or_default();
    [
        Some("user".into()),
        Some(e.actor.id.clone()),
        e.actor.department.clone(),
        e.actor.role.clone(),
        Some(e.action.clone()),
        Some(e.object.clone()),
        e.purpose.clone(),
        Some(e.outcome.as_str().into()),
        client.address,
        client.agent,
        e.request_id.clone(),
        Some(serde_json::Value::Object(e.details.clone()).to_string()),
    ]
}

fn pg_params(row: &[Option<String>; 12]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    row.iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

const PG_INSERT: &str =
    "INSERT INTO shuan_ledger_bench_events (time, actor_kind, actor, department, role,
    action, object, purpose, outcome, client_address, client_agent, request_id, details)
    VALUES (now(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb)";

/// Creates the bench table; returns how many clients the server accepts besides ours
/// (`max_connections` minus 10 reserved).
fn pg_prepare(url: &str, wanted: u64) -> (postgres::Client, u64) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL");
    let max: u64 = c
        .query_one(
            "SELECT current_setting('max_connections')::bigint - 10",
            &[],
        )
        .map(|r| r.get::<_, i64>(0).max(1) as u64)
        .unwrap_or(wanted);
    c.batch_execute(PG_TABLE).unwrap();
    (c, wanted.min(max))
}

/// Committed rows/s with `tasks` async clients, each a tokio task with its own
/// `tokio-postgres` connection, one autocommitted INSERT per event, on the same runtime
/// shape as [`ledger_async_rate`]; fewer clients if the server does not accept that many
/// connections (returns the number used).
fn pg_async_rate(url: &str, tasks: u64, secs: f64) -> (f64, u64) {
    let (mut c, tasks) = pg_prepare(url, tasks);
    let rt = runtime();
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    // Connect first, so the timed part holds only INSERTs (as the threads' rows do not
    // either: their connect time is small beside 3 s, but 256 connects are not).
    let clients: Vec<_> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..tasks {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(conn);
            let st = client.prepare(PG_INSERT).await.unwrap();
            v.push((client, st));
        }
        v
    });
    let start = Instant::now();
    let handles: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(t, (client, st))| {
            let (stop, total) = (stop.clone(), total.clone());
            rt.spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let row = pg_row(&event(t as u64, i));
                    client.execute(&st, &pg_params(&row)).await.unwrap();
                    i += 1;
                    total.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    stop_after(&rt, secs, &stop, handles);
    let rate = total.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    drop(rt);
    c.batch_execute("DROP TABLE shuan_ledger_bench_events")
        .unwrap();
    (rate, tasks)
}

/// Committed rows/s with `threads` clients, or fewer if the server does not accept that
/// many connections (returns the number used).
fn pg_rate(url: &str, threads: u64, secs: f64) -> (f64, u64) {
    let (mut c, threads) = pg_prepare(url, threads);
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (stop, total) = (&stop, &total);
            s.spawn(move || {
                let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                let st = c.prepare(PG_INSERT).unwrap();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let row = pg_row(&event(t, i));
                    // Autocommit: each INSERT is its own committed (fsynced) transaction.
                    c.execute(&st, &pg_params(&row)).unwrap();
                    i += 1;
                    total.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let rate = total.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    c.batch_execute("DROP TABLE shuan_ledger_bench_events")
        .unwrap();
    (rate, threads)
}

fn main() {
    let secs: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let verify_mb: u64 = arg("--verify-mb")
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let base = std::path::PathBuf::from(
        arg("--dir").unwrap_or_else(|| std::env::temp_dir().display().to_string()),
    );
    let pg = arg("--postgres");
    let sample = event(0, 0).prepare().unwrap();
    let _ = sample;
    let rec_len = {
        let dir = tempfile::tempdir_in(&base).unwrap();
        let l = Ledger::open(dir.path(), SigningKey::generate()).unwrap();
        l.append(&event(0, 0)).unwrap();
        l.close().unwrap();
        shuan_ledger::reader::Entries::new(dir.path(), 1)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .body
            .len()
    };
    println!(
        "record size: {rec_len} bytes canonical JSON; each run {secs} s; ledger dir under {}",
        base.display()
    );
    println!();
    println!("| appenders | events per call | shuan ledger durable events/s | ledger CPU µs/event | PostgreSQL committed rows/s | ratio | load average |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    // `--threads 1,8,64` (default) and `--per-call 1,100` (default) choose the rows.
    let list = |name: &str, default: &[u64]| -> Vec<u64> {
        arg(name)
            .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_else(|| default.to_vec())
    };
    let per_calls = list("--per-call", &[1, 100]);
    let rows = list("--threads", &[1, 8, 64, 256])
        .into_iter()
        .map(|n| (n, false))
        .chain(list("--tasks", &[64, 256]).into_iter().map(|n| (n, true)));
    for (n, is_async) in rows {
        let pg_r = pg.as_deref().map(|u| {
            if is_async {
                pg_async_rate(u, n, secs)
            } else {
                pg_rate(u, n, secs)
            }
        });
        for &per_call in &per_calls {
            let (r, cpu_us) = if is_async {
                ledger_async_rate(&base, n, per_call, secs)
            } else {
                ledger_rate(&base, n, per_call, secs)
            };
            let (p, ratio) = match pg_r {
                Some((p, used)) if used < n => (
                    format!("{p:.0} ({used} clients: server limit)"),
                    format!("{:.1}×", r / p),
                ),
                Some((p, _)) => (format!("{p:.0}"), format!("{:.1}×", r / p)),
                None => ("-".into(), "-".into()),
            };
            let who = match (is_async, n) {
                (true, _) => format!("{n} async tasks"),
                (false, 1) => "1 thread".to_string(),
                (false, _) => format!("{n} threads"),
            };
            println!(
                "| {who} | {per_call} | {r:.0} | {cpu_us:.1} | {p} | {ratio} | {} |",
                load_average()
            );
        }
    }

    if verify_mb == 0 {
        return;
    }
    // Verify throughput beside raw SM3.
    let dir = tempfile::tempdir_in(&base).unwrap();
    let key = SigningKey::generate();
    let l = Ledger::open(dir.path(), key.clone()).unwrap();
    let n = verify_mb * 1_000_000 / (rec_len as u64 + 36);
    let evs: Vec<Event> = (0..1000).map(|i| event(1, i)).collect();
    let mut done = 0;
    while done < n {
        l.append_batch(&evs).unwrap();
        done += evs.len() as u64;
    }
    l.close().unwrap();
    let _ = verify(dir.path(), &key.verifying_key(), &VerifyOptions::default()); // warm the page cache
    let cpu0 = process_cpu_seconds();
    let rep = verify(dir.path(), &key.verifying_key(), &VerifyOptions::default()).unwrap();
    let verify_cpu = process_cpu_seconds() - cpu0;
    assert!(rep.ok());
    let verify_mbs = rep.bytes as f64 / 1e6 / rep.seconds;
    let t = Instant::now();
    let cpu0 = process_cpu_seconds();
    let r = verify_with_threads(
        dir.path(),
        &key.verifying_key(),
        &VerifyOptions::default(),
        1,
    )
    .unwrap();
    let one_cpu = process_cpu_seconds() - cpu0;
    let one = t.elapsed().as_secs_f64();
    assert!(r.ok());
    let one_mbs = rep.bytes as f64 / 1e6 / one;
    let buf = vec![0x5au8; 64 << 20];
    let t = Instant::now();
    let mut reps = 0;
    while t.elapsed() < Duration::from_secs(2) {
        std::hint::black_box(shuan_crypto::sm3::sm3(&buf));
        reps += 1;
    }
    let sm3_mbs = (reps * buf.len()) as f64 / 1e6 / t.elapsed().as_secs_f64();
    println!();
    println!(
        "verify: {} records, {:.0} MB in {:.2} s = {verify_mbs:.0} MB/s; raw SM3 (shuan_crypto::sm3, 64 MiB buffers) = {sm3_mbs:.0} MB/s; verify/SM3 = {:.0}%",
        rep.records,
        rep.bytes as f64 / 1e6,
        rep.seconds,
        100.0 * verify_mbs / sm3_mbs
    );
    println!(
        "verify CPU time: {verify_cpu:.2} s on all cores, {one_cpu:.2} s on one thread (load average {})",
        load_average()
    );
    println!(
        "verify on one thread: {one_mbs:.0} MB/s = {:.0}% of raw SM3 (each record costs its leaf hash and one Merkle node hash: {} SM3 bytes per {} file bytes)",
        100.0 * one_mbs / sm3_mbs,
        (1 + 32 + rec_len + 9).div_ceil(64) * 64 + 128,
        rec_len + 36
    );
}
