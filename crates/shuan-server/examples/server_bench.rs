//! Throughput and latency of the platform server against a bare axum handler, in one run.
//!
//! Run: `cargo run --release -p shuan-server --example server_bench -- [SECONDS] [CONNECTIONS]`
//! (bench/server.sh does it and keeps the output).
//!
//! Measured, each for SECONDS with CONNECTIONS keep-alive connections from this process:
//! - `GET /api/v1/users/me` on the real server (session lookup, Cedar-free self read,
//!   audit record) and on a bare axum handler doing the same session and user lookups
//!   with no policy and no audit;
//! - an audited write (`POST /api/v1/departments`: policy decision, audit record, store
//!   insert) and the bare handler's same store insert;
//! - the Cedar decision alone (p50/p99 of `PolicyPoint::decide` for the same principal);
//! - the audit append alone (`Ledger::append_async` from CONNECTIONS tasks).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use shuan_access::{DataScope, Grant, Role};
use shuan_ledger::{Actor, ActorKind, Event, Outcome};
use shuan_policy::{AccessRequest, Action, EffectiveGrant, Principal, Resource};
use shuan_server::auth::{request_token, token_hash};
use shuan_server::init::{initialise, InitOptions};
use shuan_server::{ServerConfig, Settings};
use shuan_store::platform::{PlatformStore, Session, User};

/// Builds the n-th request of a load run.
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
            "{:<44} {:>9.0} req/s  p50 {:>7.0} µs  p99 {:>7.0} µs  ({} requests, {} errors)",
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
                        let _ = r.bytes().await;
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
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

/// The bare comparison: the same store lookups and insert, no policy, no audit.
async fn bare_me(
    State(store): State<Arc<dyn PlatformStore>>,
    headers: HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(token) = request_token(&headers) else {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    };
    let hash = token_hash(&token);
    let user = tokio::task::spawn_blocking(move || {
        let now = shuan_server::state::now();
        let s = store.session_by_token(&hash, now, 1800, 30).ok()??;
        let u = store.user(&s.username).ok()??;
        let g = store.grants(&s.username).ok()?;
        Some(serde_json::json!({"username": u.username, "department": u.department, "roles": g.len()}))
    })
    .await
    .ok()
    .flatten();
    match user {
        Some(u) => axum::Json(u).into_response(),
        None => axum::http::StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn bare_write(
    State(store): State<Arc<dyn PlatformStore>>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> axum::http::StatusCode {
    let code = body["code"].as_str().unwrap_or_default().to_string();
    let ok = tokio::task::spawn_blocking(move || {
        store
            .create_department(&shuan_store::platform::Department {
                code: code.clone(),
                name: "bench".into(),
                parent: Some("ROOT".into()),
                created_at: shuan_server::state::now(),
            })
            .is_ok()
    })
    .await
    .unwrap_or(false);
    if ok {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::CONFLICT
    }
}

fn bench_user(store: &dyn PlatformStore, name: &str) -> String {
    let now = shuan_server::state::now();
    store
        .create_user(&User {
            username: name.into(),
            display_name: "压测".into(),
            department: "ROOT".into(),
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
                role: Role::SystemAdmin,
                department: "ROOT".into(),
                scope: DataScope::All,
            },
            "bench",
            now,
        )
        .unwrap();
    // A session made directly: this measures request handling, not sign-in.
    let token = format!("shuan_st_bench{name}{:016x}", now);
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

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let connections: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    initialise(&InitOptions {
        data_dir: data.clone(),
        store_url: None,
        org_code: "ROOT".into(),
        org_name: "压测".into(),
    })
    .unwrap();
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
    let token = bench_user(&*store, "bench");
    let base = format!("http://{}", server.addr);

    let bare = Router::new()
        .route("/api/v1/users/me", get(bare_me))
        .route("/api/v1/departments", post(bare_write))
        .with_state(Arc::clone(&store));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, bare).await });
    let bare_base = format!("http://{bare_addr}");

    println!("shuan server bench: {seconds} s per row, {connections} connections, SQLite store, 2-core machine");
    let me = |base: String, token: String| -> MakeRequest {
        Arc::new(move |c: &reqwest::Client, _| {
            c.get(format!("{base}/api/v1/users/me")).bearer_auth(&token)
        })
    };
    let write = |base: String, token: String, prefix: &'static str| -> MakeRequest {
        Arc::new(move |c: &reqwest::Client, n| {
            c.post(format!("{base}/api/v1/departments"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"code": format!("{prefix}{n}"), "name": "压测部门", "parent": "ROOT"}))
        })
    };
    // SHUAN_BENCH_ROWS=read,bare_read,… runs only those rows (for a profiler); the
    // ratios print only when both sides ran.
    let only = std::env::var("SHUAN_BENCH_ROWS").ok();
    let wanted = |row: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|r| r == row))
    };
    let mut rows = Vec::new();
    let mut run = async |row: &str, label: &str, make: MakeRequest| {
        if wanted(row) {
            let s = load(label, seconds, connections, make).await;
            s.print();
            rows.push((row.to_string(), s.rps()));
        }
    };
    run(
        "bare_read",
        "bare axum: GET /users/me (no policy, no audit)",
        me(bare_base.clone(), token.clone()),
    )
    .await;
    run(
        "read",
        "shuan: GET /api/v1/users/me (audited)",
        me(base.clone(), token.clone()),
    )
    .await;
    run(
        "bare_write",
        "bare axum: POST /departments (no policy, no audit)",
        write(bare_base, token.clone(), "BARE"),
    )
    .await;
    run(
        "write",
        "shuan: POST /api/v1/departments (audited)",
        write(base, token, "AUD"),
    )
    .await;
    let rps = |row: &str| rows.iter().find(|(r, _)| r == row).map(|(_, v)| *v);
    if let (Some(read), Some(bare)) = (rps("read"), rps("bare_read")) {
        println!(
            "ratio read: shuan {:.2}× the bare handler's throughput (target ≥ 0.7)",
            read / bare
        );
    }
    if let (Some(write), Some(bare)) = (rps("write"), rps("bare_write")) {
        println!(
            "ratio write: shuan {:.2}× the bare handler's throughput; audited writes/s {:.0} (target ≥ 5000)",
            write / bare,
            write
        );
    }
    if !wanted("cedar") && !wanted("append") {
        server.stop().await.unwrap();
        return;
    }

    // The Cedar decision alone.
    let principal = Principal {
        username: "bench".into(),
        department: "ROOT".into(),
        vendor: false,
        grants: vec![EffectiveGrant::new(
            &Grant {
                role: Role::SystemAdmin,
                department: "ROOT".into(),
                scope: DataScope::All,
            },
            false,
        )],
    };
    let resource = Resource {
        kind: "department".into(),
        id: "X".into(),
        department: Some("ROOT".into()),
        owner: None,
        ancestors: Vec::new(),
    };
    let point = server.platform.policy();
    let mut lat = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let t = Instant::now();
        let d = point.decide(&AccessRequest {
            principal: &principal,
            action: Action::DepartmentCreate,
            resource: &resource,
        });
        lat.push(t.elapsed().as_nanos() as u64);
        assert!(d.allowed);
    }
    lat.sort_unstable();
    println!(
        "Cedar decision alone ({} departments in the tree): p50 {:.1} µs, p99 {:.1} µs (target p99 < 50)",
        tree_len(&store),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    // The audit append alone, from `connections` tasks for `seconds`.
    let ledger = Arc::clone(&server.platform.ledger);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let ledger = Arc::clone(&ledger);
        tasks.push(tokio::spawn(async move {
            let event = Event {
                time: None,
                actor: Actor {
                    kind: ActorKind::User,
                    id: "bench".into(),
                    department: Some("ROOT".into()),
                    role: Some("system_admin".into()),
                },
                action: "bench.append".into(),
                object: "bench".into(),
                purpose: None,
                outcome: Outcome::Allowed,
                client: None,
                request_id: Some("bench".into()),
                details: Default::default(),
            };
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                ledger.append_async(&event).await.unwrap();
                lat.push(t.elapsed().as_nanos() as u64);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    println!(
        "audit append alone ({connections} tasks): {:.0} records/s, p50 {:.0} µs, p99 {:.0} µs",
        all.len() as f64 / seconds as f64,
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    server.stop().await.unwrap();
}

fn tree_len(store: &Arc<dyn PlatformStore>) -> usize {
    store.departments().map(|d| d.len()).unwrap_or(0)
}
