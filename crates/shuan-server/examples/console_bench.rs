//! Server time of the console's table pages (issue 15's target: p99 of the inventory page
//! with 10,000 columns under 100 ms), and pages per second of the heaviest page — the
//! audit log with 1,000 rows — against its named peer measured in the same run: the API's
//! JSON answer for the same 1,000 records (`GET /api/v1/audit?limit=1000`), which does
//! the same session lookup, policy decision, durable audit record and search, and differs
//! only in rendering. The ratio (console pages/s ÷ API answers/s) is printed.
//!
//! Run: `cargo run --release -p shuan-server --example console_bench -- [REQUESTS]`
//! (bench/console-render.sh does it).
//!
//! Each request goes through the whole application router in this process (no socket):
//! session lookup, the policy decision, the audit record appended and made durable, the
//! inventory read from the node's SQLite store, filtering, sorting and the page rendered
//! — everything the server does, nothing of the network or the browser. Requests run one
//! after another; p50/p99 are over REQUESTS requests after 10 unmeasured ones.
//!
//! Inventories measured: 1,000 tables × 10 columns (10,000 columns) and 10,000 tables × 1
//! column, each shown at the page's default 100 rows and as one page of every row; the
//! API's JSON inventory beside them for the cost the console adds.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use shuan_access::{DataScope, Grant, Role};
use shuan_server::auth::token_hash;
use shuan_server::init::{initialise, InitOptions};
use shuan_server::{ServerConfig, Settings};
use shuan_store::platform::{Session, User};
use shuan_store::{ColumnRecord, ScanRecord, TableRecord};
use tower::ServiceExt;

const TOKEN: &str = "shuan_st_console_bench_0123456789abcdef";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn scan(tables: usize, columns: usize) -> ScanRecord {
    let levels = ["一般数据", "重要数据", "核心数据", "敏感个人信息"];
    ScanRecord {
        source: format!("postgres://bench@db/{tables}x{columns}"),
        profile: "gbt-43697".into(),
        sample_size: 1000,
        tables: (0..tables)
            .map(|t| TableRecord {
                name: format!("业务表_{t:05}"),
                rows_scanned: 1000,
                row_count: Some(12_345 * (t as u64 % 97 + 1)),
                level: levels[t % 4].into(),
                level_rank: (t % 4) as u32,
                catalogue: t % 5 == 0,
                reason: "含身份证号列 (cn_resident_id)".into(),
                columns: (0..columns)
                    .map(|c| ColumnRecord {
                        name: format!("col_{c}"),
                        declared_type: Some("varchar".into()),
                        data_type: (c % 3 == 0).then(|| "cn_resident_id".into()),
                        label: (c % 3 == 0).then(|| "居民身份证号".into()),
                        category: None,
                        level: levels[c % 4].into(),
                        level_rank: (c % 4) as u32,
                        confidence: 0.97,
                        reason: "校验位正确".into(),
                        values_seen: 1000,
                        values_matched: 990,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Timings of one page: p50 and p99 in ms, and requests per second over the run.
struct Timing {
    per_sec: f64,
}

async fn measure(app: &axum::Router, label: &str, path: &str, n: usize) -> Timing {
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    let mut measured_from = Instant::now();
    for i in 0..n + 10 {
        if i == 10 {
            measured_from = Instant::now();
        }
        let req = Request::get(path)
            .header("cookie", format!("shuan_session={TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let started = Instant::now();
        let response = app.clone().oneshot(req).await.unwrap();
        assert!(
            response.status().is_success(),
            "{label}: {}",
            response.status()
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        bytes = body.len();
        if i >= 10 {
            times.push(ms);
        }
    }
    let per_sec = n as f64 / measured_from.elapsed().as_secs_f64();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{label:<58} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  {per_sec:>7.1}/s  ({} KiB, {n} requests)",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(0.0),
        bytes / 1024
    );
    Timing { per_sec }
}

/// A node with one account holding `role` (scope: everything) and a live session for
/// [`TOKEN`], the ledger holding `records` records first.
fn node(role: Role, records: usize) -> (tempfile::TempDir, axum::Router) {
    let dir = tempfile::tempdir().unwrap();
    initialise(&InitOptions {
        data_dir: dir.path().to_path_buf(),
        store_url: None,
        org_code: "ROOT".into(),
        org_name: "测试市数据局".into(),
    })
    .unwrap();
    if records > 0 {
        // Written straight to the ledger before the node opens it, as many sign-ins and
        // reads by other people would have left them.
        let ledger =
            shuan_server::init::open_ledger(dir.path(), shuan_ledger::Options::default()).unwrap();
        let events: Vec<shuan_ledger::Event> = (0..records)
            .map(|i| shuan_ledger::Event {
                time: None,
                actor: shuan_ledger::Actor {
                    kind: shuan_ledger::ActorKind::User,
                    id: format!("user{:03}", i % 200),
                    department: Some("ROOT".into()),
                    role: Some("data_steward".into()),
                },
                action: if i % 7 == 0 {
                    "session.login"
                } else {
                    "inventory.read"
                }
                .into(),
                object: format!("table:业务表_{i:05}"),
                purpose: Some("年度数据资产盘点".into()),
                outcome: if i % 11 == 0 {
                    shuan_ledger::Outcome::Denied
                } else {
                    shuan_ledger::Outcome::Allowed
                },
                client: Some(shuan_ledger::Client {
                    address: Some(format!("10.0.{}.{}", i / 250, i % 250)),
                    agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0".into()),
                }),
                request_id: Some(format!("{i:032x}")),
                details: serde_json::Map::new(),
            })
            .collect();
        ledger.append_batch(&events).unwrap();
        ledger.close().unwrap();
    }
    let config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        store_url: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        insecure_plain_http: false,
        settings: Settings::default(),
    };
    let platform = shuan_server::open_platform(&config).unwrap();
    let now = shuan_server::state::now();
    let store = Arc::clone(&platform.store);
    let username = role.id().to_string();
    store
        .create_user(&User {
            username: username.clone(),
            display_name: role.label().into(),
            department: "ROOT".into(),
            vendor: false,
            contract_end: None,
            password_hash: String::new(),
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
            &username,
            &Grant {
                role,
                department: "ROOT".into(),
                scope: DataScope::All,
            },
            "bench",
            now,
        )
        .unwrap();
    store
        .create_session(&Session {
            token_hash: token_hash(TOKEN),
            id: "bench".into(),
            username,
            kind: "api".into(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + 8 * 3600,
            address: "127.0.0.1".into(),
            user_agent: None,
            restricted: false,
        })
        .unwrap();
    let app = shuan_server::app(platform);
    (dir, app)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);

    // The heaviest page against its peer.
    let (_dir, app) = node(Role::Auditor, 1_000);
    println!("audit log: 1,000 records in the ledger, an auditor signed in");
    let page = measure(
        &app,
        "  GET /audit/log?size=1000 (console page, 1,000 rows)",
        "/audit/log?size=1000",
        n,
    )
    .await;
    let api = measure(
        &app,
        "  GET /api/v1/audit?limit=1000 (peer: the API's JSON)",
        "/api/v1/audit?limit=1000",
        n,
    )
    .await;
    println!(
        "  ratio: console {:.1} pages/s / API {:.1} answers/s = {:.2}x",
        page.per_sec,
        api.per_sec,
        page.per_sec / api.per_sec
    );
    drop(app);

    for (tables, columns) in [(1_000usize, 10usize), (10_000, 1)] {
        let (dir, app) = node(Role::DataSteward, 0);
        shuan_store::Store::open(dir.path())
            .unwrap()
            .record_scan(&scan(tables, columns))
            .unwrap();
        let columns_total = tables * columns;
        println!("inventory: {tables} tables × {columns} columns = {columns_total} columns");
        let page = measure(
            &app,
            "  GET /data/inventory (page of 100 rows)",
            "/data/inventory",
            n,
        )
        .await;
        measure(
            &app,
            "  GET /data/inventory?sort=rows&page=5 (page of 100 rows)",
            "/data/inventory?sort=rows&page=5",
            n,
        )
        .await;
        let all = measure(
            &app,
            &format!("  GET /data/inventory?size=10000 (all {tables} rows)"),
            "/data/inventory?size=10000",
            n,
        )
        .await;
        let api = measure(
            &app,
            "  GET /api/v1/inventory (peer: the API's JSON, every row)",
            "/api/v1/inventory",
            n,
        )
        .await;
        println!(
            "  ratio: page of 100 {:.2}x, every row {:.2}x the API's answers/s",
            page.per_sec / api.per_sec,
            all.per_sec / api.per_sec
        );
    }
}
