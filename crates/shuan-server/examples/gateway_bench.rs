//! The data-service gateway beside a bare axum handler (and optionally Datasette), in one
//! run: calls/s and p50/p99 of a masked single-record lookup on a 1-million-row
//! PostgreSQL table.
//!
//! Run: `cargo run --release -p shuan-server --example gateway_bench -- PG_URL [SECONDS]
//! [CONNECTIONS]` (bench/gateway-vs-bare-axum.sh makes the table, starts Datasette on the
//! same rows in SQLite, and passes its URL in `DATASETTE_URL`).
//!
//! - shuan: `GET /api/v1/services/lookup?id_card=…` with a data user's session: the
//!   agreement checked at call time, the policy decided, the parameter bound, the select
//!   on a pooled connection, the `sharing` scenario's masking (a keyed pseudonym for the
//!   id, a partly hidden phone and name), the rate/volume count in the store, and one
//!   ledger record before the answer;
//! - the floor: a bare axum handler running the same parameterised select on the same
//!   kind of pooled connection (`shuan_source::query`), answering the raw row as JSON —
//!   no session, policy, agreement, masking, counting or audit;
//! - Datasette (when `DATASETTE_URL` is set): `GET /bench/people.json?id_card=…&_shape=array`
//!   on the same rows in SQLite, indexed the same way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use shuan_access::{DataScope, Grant, Role};
use shuan_server::auth::token_hash;
use shuan_server::init::{initialise, InitOptions};
use shuan_server::{ServerConfig, Settings};
use shuan_source::query::{Connection, Op, Predicate, Select, Value as QValue};
use shuan_store::platform::{Department, PlatformStore, Session, User};

type MakeRequest = Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

struct Stats {
    label: String,
    requests: u64,
    errors: u64,
    seconds: f64,
    p50_us: f64,
    p99_us: f64,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    fn print(&self) {
        println!(
            "{:<58} {:>7.0} calls/s  p50 {:>7.0} µs  p99 {:>7.0} µs  ({} calls, {} errors)",
            self.label,
            self.rps(),
            self.p50_us,
            self.p99_us,
            self.requests,
            self.errors
        );
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn load(label: &str, seconds: u64, connections: usize, make: MakeRequest) -> Stats {
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (make, counter, errors) =
            (Arc::clone(&make), Arc::clone(&counter), Arc::clone(&errors));
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match make(&client, n).send().await {
                    Ok(r) if r.status().is_success() => {
                        let body = r.bytes().await.unwrap_or_default();
                        // Every answer must hold the one row asked for.
                        if body.len() < 20 {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(r) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("{} {}", r.status(), r.text().await.unwrap_or_default());
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("{e}");
                        }
                    }
                }
                lat.push(t.elapsed().as_nanos() as u64);
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64().max(seconds as f64);
    all.sort_unstable();
    Stats {
        label: label.into(),
        requests: all.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        seconds: secs,
        p50_us: percentile(&all, 0.5),
        p99_us: percentile(&all, 0.99),
    }
}

const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The resident id of row `g` as bench/gateway-vs-bare-axum.sh's SQL makes it.
fn resident_id(g: u64) -> String {
    let body = format!(
        "410102{}{:02}{:02}{:03}",
        1950 + g % 50,
        (g / 50) % 12 + 1,
        (g / 600) % 28 + 1,
        (g / 16_800) % 1000
    );
    let s: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(s % 11) as usize] as char)
}

/// Picks a row spread over the table for call `n`.
fn row_of(n: u64, rows: u64) -> u64 {
    1 + (n.wrapping_mul(2_654_435_761) % rows)
}

struct Bare {
    url: String,
    pool: Mutex<Vec<Connection>>,
}

impl Drop for Bare {
    fn drop(&mut self) {
        // Blocking clients close off the async workers.
        let pool = std::mem::take(self.pool.get_mut().unwrap());
        let _ = std::thread::spawn(move || drop(pool)).join();
    }
}

async fn bare_lookup(
    State(b): State<Arc<Bare>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(id) = q.get("id_card").cloned() else {
        return axum::http::StatusCode::BAD_REQUEST.into_response();
    };
    let rows = tokio::task::spawn_blocking(move || {
        let mut conn = match b.pool.lock().unwrap().pop() {
            Some(c) => c,
            None => Connection::open(&b.url).ok()?,
        };
        let answer = conn
            .select(&Select {
                schema: Some("public".into()),
                table: "people".into(),
                columns: vec![
                    "姓名".into(),
                    "身份证号".into(),
                    "手机号".into(),
                    "补贴金额".into(),
                ],
                predicates: vec![Predicate {
                    column: "身份证号".into(),
                    op: Op::Eq,
                    value: QValue::Text(id),
                }],
                limit: 6,
                offset: 0,
                timeout: Duration::from_secs(5),
            })
            .ok();
        b.pool.lock().unwrap().push(conn);
        answer
    })
    .await
    .ok()
    .flatten();
    match rows {
        Some(a) => {
            let rows: Vec<Value> = a
                .rows
                .into_iter()
                .map(|r| {
                    Value::Object(
                        a.columns
                            .iter()
                            .cloned()
                            .zip(
                                r.into_iter()
                                    .map(|v| v.map(Value::String).unwrap_or(Value::Null)),
                            )
                            .collect(),
                    )
                })
                .collect();
            axum::Json(json!({"rows": rows})).into_response()
        }
        None => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

fn account(store: &dyn PlatformStore, name: &str, department: &str, role: Role) -> String {
    let now = shuan_server::state::now();
    store
        .create_user(&User {
            username: name.into(),
            display_name: "压测".into(),
            department: department.into(),
            vendor: false,
            contract_end: None,
            password_hash: shuan_auth::hash_password("Bench-Passw0rd!").unwrap(),
            password_changed_at: now,
            must_change_password: false,
            totp: None,
            disabled: false,
            created_at: now,
            last_login_at: None,
        })
        .unwrap();
    store
        .add_grant(
            name,
            &Grant {
                role,
                department: department.into(),
                scope: DataScope::All,
            },
            "bench",
            now,
        )
        .unwrap();
    // Sessions made directly: this measures calls, not sign-in (TOTP included).
    let token = format!("shuan_st_bench{name}{now:016x}");
    store
        .create_session(&Session {
            token_hash: token_hash(&token),
            id: format!("bench-{name}"),
            username: name.into(),
            kind: "api".into(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + 86_400,
            address: "127.0.0.1".into(),
            user_agent: None,
            restricted: false,
        })
        .unwrap();
    token
}

async fn post(c: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let r = c
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status} {v}");
    v
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pg = args
        .get(1)
        .cloned()
        .expect("usage: gateway_bench PG_URL [SECONDS] [CONNECTIONS]");
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let connections: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
    let rows: u64 = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    initialise(&InitOptions {
        data_dir: data.clone(),
        store_url: None,
        org_code: "ROOT".into(),
        org_name: "压测".into(),
    })
    .unwrap();
    {
        let store = shuan_store::platform::open_platform(&data, None).unwrap();
        for code in ["PROV", "RECV"] {
            store
                .create_department(&Department {
                    code: code.into(),
                    name: code.into(),
                    parent: Some("ROOT".into()),
                    created_at: shuan_server::state::now(),
                })
                .unwrap();
        }
    }
    let server = shuan_server::start(ServerConfig {
        data_dir: data.clone(),
        store_url: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        insecure_plain_http: false,
        settings: Settings::default(),
    })
    .await
    .unwrap();
    let store = Arc::clone(&server.platform.store);
    let steward = account(&*store, "steward", "PROV", Role::DataSteward);
    let cdo = account(&*store, "cdo", "PROV", Role::ChiefDataOfficer);
    let user = account(&*store, "user", "RECV", Role::DataUser);
    let base = format!("http://{}", server.addr);
    let c = reqwest::Client::new();

    // The flow once: register and scan, request, approve, publish.
    let t = Instant::now();
    let reg = post(
        &c,
        format!("{base}/api/v1/sources"),
        &steward,
        json!({"name": "bench", "url": pg, "department": "PROV", "profile": "xinyang", "sample": 1000}),
    )
    .await;
    let entry = reg["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "people")
        .expect("the bench database has a people table")
        .clone();
    eprintln!(
        "registered and scanned in {:.1} s: people is {} ({}), personal {}",
        t.elapsed().as_secs_f64(),
        entry["level"],
        entry["share_type"],
        entry["personal"]
    );
    let req = post(
        &c,
        format!("{base}/api/v1/share-requests"),
        &user,
        json!({"resource": entry["code"], "fields": ["姓名", "身份证号", "手机号", "补贴金额"],
               "purpose": "核对补贴对象", "scenario": "sharing", "basis": "压测", "valid_days": 1}),
    )
    .await;
    let id = req["id"].as_i64().unwrap();
    let steps: Vec<String> = serde_json::from_value(req["request"]["steps"].clone()).unwrap();
    for step in steps {
        let token = if step == "cdo" { &cdo } else { &steward };
        post(
            &c,
            format!("{base}/api/v1/share-requests/{id}/approve"),
            token,
            json!({"comment": "压测", "rate_per_minute": 100000, "rows_per_day": 1000000000}),
        )
        .await;
    }
    post(
        &c,
        format!("{base}/api/v1/services"),
        &steward,
        json!({"name": "lookup", "resource": entry["code"], "fields": ["姓名", "身份证号", "手机号", "补贴金额"],
               "params": [{"name": "id_card", "column": "身份证号", "op": "eq", "required": true, "pattern": "[0-9]{17}[0-9X]"}],
               "max_rows": 5}),
    )
    .await;
    // A first call checks the answer is masked.
    let probe = resident_id(row_of(0, rows));
    let v: Value = c
        .get(format!("{base}/api/v1/services/lookup?id_card={probe}"))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(1), "{v}");
    assert_ne!(v["rows"][0]["身份证号"], json!(probe), "masked: {v}");
    eprintln!("probe: {v}");

    let bare = Router::new()
        .route("/lookup", get(bare_lookup))
        .with_state(Arc::new(Bare {
            url: pg.clone(),
            pool: Mutex::new(Vec::new()),
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, bare).await });

    println!(
        "gateway bench: masked single-record lookup on a {rows}-row PostgreSQL table, {seconds} s per row, {connections} connections, 2-core machine (load generator in the same process)"
    );
    let floor = load(
        "bare axum + same select (no policy/agreement/mask/audit)",
        seconds,
        connections,
        Arc::new(move |c: &reqwest::Client, n| {
            c.get(format!(
                "http://{bare_addr}/lookup?id_card={}",
                resident_id(row_of(n, rows))
            ))
        }),
    )
    .await;
    let base2 = base.clone();
    let user2 = user.clone();
    let shuan = load(
        "shuan gateway: GET /api/v1/services/lookup (audited)",
        seconds,
        connections,
        Arc::new(move |c: &reqwest::Client, n| {
            c.get(format!(
                "{base2}/api/v1/services/lookup?id_card={}",
                resident_id(row_of(n, rows))
            ))
            .bearer_auth(&user2)
        }),
    )
    .await;
    let datasette = match std::env::var("DATASETTE_URL") {
        Ok(url) if !url.is_empty() => Some(
            load(
                "Datasette (SQLite, same rows, indexed)",
                seconds,
                connections,
                Arc::new(move |c: &reqwest::Client, n| {
                    c.get(format!(
                        "{url}/bench/people.json?身份证号={}&_shape=array",
                        resident_id(row_of(n, rows))
                    ))
                }),
            )
            .await,
        ),
        _ => None,
    };
    floor.print();
    shuan.print();
    if let Some(d) = &datasette {
        d.print();
    }
    println!(
        "ratio: shuan gateway {:.2}× the bare handler's calls/s (target ≥ 0.7), p99 {:.2}× the floor's",
        shuan.rps() / floor.rps(),
        shuan.p99_us / floor.p99_us.max(1.0)
    );
    if let Some(d) = &datasette {
        println!(
            "ratio: shuan gateway {:.2}× Datasette's calls/s (target > 1), p99 {:.2}× Datasette's",
            shuan.rps() / d.rps(),
            shuan.p99_us / d.p99_us.max(1.0)
        );
    }
    let audited = server
        .platform
        .metrics
        .audit_records
        .load(Ordering::Relaxed);
    println!("audit records written by the server during the run: {audited}");
    server.stop().await.unwrap();
    // The bare handler's pooled clients close on their own thread (Drop for Bare); the
    // runtime's end must not drop them on a worker.
    std::process::exit(0);
}
