//! Misuse detection throughput (issue 12 item 5, target ≥ 100,000 audit events/s).
//!
//! Generates a deterministic audit stream shaped like the gateway's records — callers of
//! many departments calling services through the working day, fewer at night, vendors
//! with small extracts, mistyped passwords, and injected abuse: enumeration bursts with
//! sequential identity numbers, volume spikes, success after denials, vendor CSV
//! extracts, out-of-agreement calls, calls from new addresses — and times the engine on
//! it (records already in memory, and parsed from their JSON first). The peer in the
//! same run is SQLite (bundled, in memory): the same events loaded into an indexed table
//! and four of the windowed counts computed with GROUP BY and window functions.
//!
//! Usage: misuse_bench [records] [callers]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::Instant;

use serde_json::{json, Map};
use shuan_ledger::{Actor, ActorKind, Client, Outcome, Record, Timestamp};
use shuan_watch::{AgreementScope, RuleId, RuleSet, Watcher};

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn id_number(body: u64) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let b = format!("{body:017}");
    let sum: u32 = b.bytes().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{b}{}", C[(sum % 11) as usize] as char)
}

struct Caller {
    actor: Actor,
    address: String,
    agreement: i64,
    vendor: bool,
}

/// What the SQLite peer gets of each event.
struct Row {
    actor: u32,
    t: i64,
    rows: u64,
    pkey: i64,
    lookup: bool,
    allowed: bool,
    denied: bool,
    csv: bool,
    vendor: bool,
}

struct Gen {
    rng: Rng,
    t: i64,
    seq: u64,
    callers: Vec<Caller>,
    /// Injected calls by due time: bursts run interleaved with everyone else's calls.
    pending: BinaryHeap<Reverse<(i64, u64)>>,
    calls: HashMap<u64, (usize, Call)>,
    next_id: u64,
}

#[derive(Clone)]
struct Call {
    dt: i64,
    action: &'static str,
    outcome: Outcome,
    value: String,
    rows: u64,
    csv: bool,
    code: Option<&'static str>,
    resource: Option<String>,
    address: Option<String>,
}

impl Call {
    fn lookup(value: String, rows: u64) -> Call {
        Call {
            dt: 0,
            action: "service.call",
            outcome: Outcome::Allowed,
            value,
            rows,
            csv: false,
            code: None,
            resource: None,
            address: None,
        }
    }
}

impl Gen {
    fn new(callers: usize) -> Gen {
        let depts = 40;
        let callers = (0..callers)
            .map(|i| {
                let vendor = i % 50 == 7;
                let dept = format!("3301{:02}", i % depts);
                Caller {
                    actor: Actor {
                        kind: ActorKind::User,
                        id: format!("user{i:05}"),
                        department: Some(if vendor {
                            format!("vendor-{}", i % 3)
                        } else {
                            dept
                        }),
                        role: Some(if vendor {
                            "vendor_operator".into()
                        } else {
                            "analyst".into()
                        }),
                    },
                    address: format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256),
                    agreement: (i % depts) as i64 + 1,
                    vendor,
                }
            })
            .collect();
        Gen {
            rng: Rng(0x5eed_1234_abcd_0001),
            // 2026-11-30 00:00 +08:00, a Monday.
            t: Timestamp::parse("2026-11-30T00:00:00+08:00")
                .unwrap()
                .micros(),
            seq: 0,
            callers,
            pending: BinaryHeap::new(),
            calls: HashMap::new(),
            next_id: 0,
        }
    }

    fn random_id(&mut self) -> String {
        let r = &mut self.rng;
        let district = 330101 + r.below(15);
        let birth = 19500101 + r.below(45) * 10000 + r.below(12) * 100 + r.below(28);
        id_number(district * 100_000_000_000 + birth * 1000 + r.below(1000))
    }

    fn working(t: i64) -> bool {
        let local = t + 8 * HOUR;
        let day = local.div_euclid(DAY);
        let weekday = (day.rem_euclid(7) + 3) % 7;
        let hour = local.rem_euclid(DAY) / HOUR;
        weekday < 5 && (8..19).contains(&hour)
    }

    /// Starts an abuse pattern: its calls are emitted one after another from now on.
    fn inject(&mut self) -> bool {
        let n = self.callers.len();
        let who = self.rng.below(n as u64) as usize;
        let r = self.rng.below(1_000_000);
        let mut calls = Vec::new();
        if r < 30 {
            // Enumeration: 80 sequential identity numbers, 3 s apart.
            let base = 33010219800101000 + self.rng.below(500) * 1000;
            for k in 0..80 {
                calls.push(Call {
                    dt: 3_000_000,
                    ..Call::lookup(id_number(base + k), 1)
                });
            }
        } else if r < 45 {
            // Volume spike: 300 calls of one query in 50 minutes.
            let v = self.random_id();
            for _ in 0..300 {
                calls.push(Call {
                    dt: 10_000_000,
                    ..Call::lookup(v.clone(), 1)
                });
            }
        } else if r < 80 {
            // Six refusals, then through.
            let v = self.random_id();
            for _ in 0..6 {
                calls.push(Call {
                    dt: 20_000_000,
                    outcome: Outcome::Denied,
                    code: Some("forbidden"),
                    ..Call::lookup(v.clone(), 0)
                });
            }
            calls.push(Call {
                dt: 20_000_000,
                ..Call::lookup(v, 1)
            });
        } else if r < 110 {
            // A vendor's CSV extracts.
            let who = (who / 50) * 50 + 7;
            if who < n {
                for _ in 0..6 {
                    calls.push(Call {
                        dt: 60_000_000,
                        csv: true,
                        ..Call::lookup("330102".into(), 300)
                    });
                }
                self.schedule(who, calls);
                return true;
            }
        } else if r < 300 {
            calls.push(Call {
                dt: 1_000_000,
                outcome: Outcome::Denied,
                code: Some("no_agreement"),
                ..Call::lookup(self.random_id(), 0)
            });
        } else if r < 400 {
            calls.push(Call {
                dt: 1_000_000,
                resource: Some("R-999".into()),
                ..Call::lookup(self.random_id(), 1)
            });
        } else if r < 430 {
            let a = format!("203.0.113.{}", self.rng.below(250));
            calls.push(Call {
                dt: 1_000_000,
                address: Some(a),
                ..Call::lookup(self.random_id(), 1)
            });
        } else {
            return false;
        }
        self.schedule(who, calls);
        true
    }

    fn schedule(&mut self, who: usize, calls: Vec<Call>) {
        let mut due = self.t;
        for c in calls {
            due += c.dt;
            self.next_id += 1;
            self.pending.push(Reverse((due, self.next_id)));
            self.calls.insert(self.next_id, (who, c));
        }
    }

    fn normal(&mut self) -> (usize, Call) {
        let n = self.callers.len() as u64;
        let who = if Gen::working(self.t) {
            self.rng.below(n) as usize
        } else {
            // At night only the on-call few work (one caller in a hundred).
            ((self.rng.below(n.div_ceil(100)) * 100 + 3) % n) as usize
        };
        let r = self.rng.below(1000);
        let call = if r < 30 {
            Call {
                action: "session.login",
                outcome: if r < 5 {
                    Outcome::Denied
                } else {
                    Outcome::Allowed
                },
                ..Call::lookup(String::new(), 0)
            }
        } else if r < 50 {
            Call {
                action: "catalogue.read",
                ..Call::lookup(String::new(), 0)
            }
        } else if r < 65 {
            Call {
                outcome: Outcome::Denied,
                code: Some("rate_limited"),
                ..Call::lookup(self.random_id(), 0)
            }
        } else if self.callers[who].vendor {
            Call::lookup("330102".into(), 1 + self.rng.below(20))
        } else {
            let rows = self.rng.below(2);
            Call::lookup(self.random_id(), rows)
        };
        (who, call)
    }

    fn next(&mut self, gap: i64) -> (Record, Row) {
        let due = self.pending.peek().map(|Reverse((d, id))| (*d, *id));
        let (t, (who, call)) = match due {
            Some((d, id)) if d <= self.t => {
                self.pending.pop();
                // Up to 2 s behind the stream: as if from another node.
                (
                    d - self.rng.below(2_000_000) as i64,
                    self.calls.remove(&id).expect("scheduled"),
                )
            }
            _ => {
                let g = 1 + self.rng.below(2 * gap as u64) as i64;
                self.t += if Gen::working(self.t) { g } else { 40 * g };
                self.inject();
                (self.t, self.normal())
            }
        };
        self.seq += 1;
        let c = &self.callers[who];
        let mut details = Map::new();
        let service_call = call.action == "service.call";
        let mut pkey = 0i64;
        if service_call {
            let resource = call
                .resource
                .clone()
                .unwrap_or_else(|| format!("R-{:03}", c.agreement));
            details.insert("service".into(), json!("hukou_lookup"));
            details.insert("agreement".into(), json!(c.agreement));
            details.insert("resource".into(), json!(resource));
            let masked = shuan_share::service::mask_value(&call.value);
            pkey = masked.bytes().fold(1469598103934665603u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(1099511628211)
            }) as i64;
            details.insert("params".into(), json!([["id", masked]]));
            details.insert(
                "format".into(),
                json!(if call.csv { "csv" } else { "json" }),
            );
            details.insert("rows".into(), json!(call.rows));
            if let Some(code) = call.code {
                details.insert("code".into(), json!(code));
                details.insert("reason".into(), json!("refused"));
            }
            details.insert("latency_us".into(), json!(900 + self.rng.below(3000)));
        }
        let record = Record {
            seq: self.seq,
            time: Timestamp(t),
            actor: c.actor.clone(),
            action: call.action.into(),
            object: if service_call {
                "service:hukou_lookup".into()
            } else {
                "session".into()
            },
            purpose: None,
            outcome: call.outcome,
            client: Some(Client {
                address: Some(call.address.clone().unwrap_or_else(|| c.address.clone())),
                agent: Some("python-requests/2.32".into()),
            }),
            request_id: Some(format!("req-{}", self.seq)),
            details,
        };
        let row = Row {
            actor: who as u32,
            t,
            rows: if call.outcome == Outcome::Allowed {
                call.rows
            } else {
                0
            },
            pkey,
            lookup: service_call && call.outcome == Outcome::Allowed && call.rows <= 1,
            allowed: call.outcome == Outcome::Allowed,
            denied: call.outcome == Outcome::Denied,
            csv: call.csv && call.outcome == Outcome::Allowed,
            vendor: c.vendor && service_call,
        };
        (record, row)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_500_000);
    let callers: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    // 14 days of time for the whole stream (nights and weekends 40× quieter).
    let gap = (10 * 11 * HOUR) / n.max(1) as i64;
    let mut gen = Gen::new(callers);
    let scopes: HashMap<i64, AgreementScope> = (1..=40)
        .map(|i| {
            (
                i,
                AgreementScope {
                    resources: vec![format!("R-{i:03}")],
                    purpose: None,
                },
            )
        })
        .collect();
    let mut watcher = Watcher::new(RuleSet::default()).with_lookup(Box::new(scopes.clone()));
    let mut rows = Vec::with_capacity(n);
    let mut per_rule: BTreeMap<RuleId, u64> = BTreeMap::new();
    let mut engine_time = 0.0f64;
    let mut parse_time = 0.0f64;
    let mut json_bytes = 0usize;
    let mut chunk = Vec::with_capacity(50_000);
    let mut lines: Vec<Vec<u8>> = Vec::with_capacity(50_000);
    let mut parsed_watcher = Watcher::new(RuleSet::default()).with_lookup(Box::new(scopes));
    let mut parsed_alerts = 0u64;
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut done = 0;
    while done < n {
        chunk.clear();
        lines.clear();
        for _ in 0..50_000.min(n - done) {
            let (r, row) = gen.next(gap);
            first = first.min(row.t);
            last = last.max(row.t);
            rows.push(row);
            lines.push(r.canonical_bytes());
            chunk.push(r);
        }
        done += chunk.len();
        let started = Instant::now();
        for r in &chunk {
            watcher.observe_into("node-a", r, &mut |a| {
                *per_rule.entry(a.rule).or_default() += 1
            });
        }
        engine_time += started.elapsed().as_secs_f64();
        // The same records as the ledger stores them: parse each line, then observe.
        let started = Instant::now();
        for line in &lines {
            json_bytes += line.len();
            let r: Record = serde_json::from_slice(line)?;
            parsed_watcher.observe_into("node-a", &r, &mut |_| parsed_alerts += 1);
        }
        parse_time += started.elapsed().as_secs_f64();
    }
    let st = watcher.stats();
    println!(
        "== stream: {n} audit records, {callers} callers, {:.1} days, {:.0} MB as canonical JSON",
        (last - first) as f64 / DAY as f64,
        json_bytes as f64 / 1e6
    );
    let eps = n as f64 / engine_time;
    println!(
        "shuan-watch engine (7 rules, records in memory): {engine_time:.3} s = {eps:.0} events/s; {} alerts, {} callers held",
        st.alerts, st.actors
    );
    for (rule, k) in &per_rule {
        println!("  {:<20} {k}", rule.id());
    }
    println!(
        "shuan-watch parse JSON + engine: {parse_time:.3} s = {:.0} events/s ({parsed_alerts} alerts)",
        n as f64 / parse_time
    );

    // The peer: SQLite with the same events in an indexed table.
    let db = rusqlite::Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE events(actor INTEGER NOT NULL, t INTEGER NOT NULL, rows INTEGER NOT NULL,
            pkey INTEGER NOT NULL, lookup INTEGER NOT NULL, allowed INTEGER NOT NULL,
            denied INTEGER NOT NULL, csv INTEGER NOT NULL, vendor INTEGER NOT NULL);",
    )?;
    let started = Instant::now();
    {
        let tx = db.unchecked_transaction()?;
        {
            let mut ins = tx.prepare("INSERT INTO events VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)")?;
            for r in &rows {
                ins.execute(rusqlite::params![
                    r.actor,
                    r.t,
                    r.rows as i64,
                    r.pkey,
                    r.lookup,
                    r.allowed,
                    r.denied,
                    r.csv,
                    r.vendor
                ])?;
            }
        }
        tx.execute_batch("CREATE INDEX events_actor_t ON events(actor, t);")?;
        tx.commit()?;
    }
    let load = started.elapsed().as_secs_f64();
    let queries: [(&str, &str); 4] = [
        (
            "volume_spike (hourly counts vs mean of previous 24 active hours)",
            "WITH w AS (SELECT actor, t / 3600000000 AS win, COUNT(*) AS n FROM events
                 WHERE pkey <> 0 GROUP BY actor, win),
             b AS (SELECT n, AVG(n) OVER p AS base, COUNT(*) OVER p AS k FROM w
                 WINDOW p AS (PARTITION BY actor ORDER BY win ROWS BETWEEN 24 PRECEDING AND 1 PRECEDING))
             SELECT COUNT(*) FROM b WHERE k >= 5 AND n > 5 * base AND n >= 100",
        ),
        (
            "enumeration (distinct values of lookups per 10 minutes)",
            "SELECT COUNT(*) FROM (SELECT actor, t / 600000000 AS win, COUNT(DISTINCT pkey) AS d
                 FROM events WHERE lookup GROUP BY actor, win) WHERE d >= 50",
        ),
        (
            "after_denials (denials in the 10 minutes before an allowed call)",
            "SELECT COUNT(DISTINCT actor || ':' || (t / 600000000)) FROM (
                 SELECT actor, t, allowed, SUM(denied) OVER (PARTITION BY actor ORDER BY t
                     RANGE BETWEEN 600000000 PRECEDING AND CURRENT ROW) AS d FROM events)
             WHERE allowed AND d >= 5",
        ),
        (
            "vendor_bulk_export (vendor rows and CSV extracts per hour)",
            "SELECT COUNT(*) FROM (SELECT actor, t / 3600000000 AS win, SUM(rows) AS r, SUM(csv) AS c
                 FROM events WHERE vendor AND allowed GROUP BY actor, win) WHERE r >= 1000 OR c >= 5",
        ),
    ];
    let started = Instant::now();
    let mut found = Vec::new();
    for (name, sql) in queries {
        let q = Instant::now();
        let k: i64 = db.query_row(sql, [], |r| r.get(0))?;
        found.push(format!(
            "  {name}: {k} ({:.3} s)",
            q.elapsed().as_secs_f64()
        ));
    }
    let query = started.elapsed().as_secs_f64();
    let total = load + query;
    println!(
        "sqlite {} (bundled, in memory, 4 of the 7 rules): load+index {load:.3} s, queries {query:.3} s, total {total:.3} s = {:.0} events/s",
        rusqlite::version(),
        n as f64 / total
    );
    for f in found {
        println!("{f}");
    }
    println!(
        "ratio: engine {:.1}× SQLite's events/s (engine+JSON parse {:.1}×); target ≥ 100,000 events/s: {}",
        eps / (n as f64 / total),
        (n as f64 / parse_time) / (n as f64 / total),
        if eps >= 100_000.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
