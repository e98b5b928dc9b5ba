//! Rough single-thread throughput of the two hottest platform-store calls: recording a
//! failed sign-in (a durable write) and looking a session up by token (a read, no touch).
//! Ignored by default — it measures, it does not check. Run:
//!
//! ```text
//! . scripts/ensure-services.sh
//! cargo test -p shuan-store --test platform_throughput -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use shuan_store::platform::postgres::PgPlatform;
use shuan_store::platform::sqlite::SqlitePlatform;
use shuan_store::platform::*;

const NOW: UnixTime = 1_760_000_000;

/// Calls `op` until `budget` has passed (at least `min` times); returns calls per second.
fn rate(budget: Duration, min: u64, mut op: impl FnMut(u64)) -> f64 {
    let started = Instant::now();
    let mut n = 0;
    while n < min || started.elapsed() < budget {
        op(n);
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn measure(label: &str, s: &dyn PlatformStore) {
    s.create_department(&Department {
        code: "D1".into(),
        name: "部门".into(),
        parent: None,
        created_at: NOW,
    })
    .unwrap();
    s.create_user(&User {
        username: "alice".into(),
        display_name: "甲".into(),
        department: "D1".into(),
        vendor: false,
        contract_end: None,
        password_hash: "h".into(),
        password_changed_at: NOW,
        must_change_password: false,
        totp: None,
        disabled: false,
        created_at: NOW,
        last_login_at: None,
    })
    .unwrap();
    for i in 0..1000 {
        s.create_session(&Session {
            token_hash: format!("{i:064x}"),
            id: format!("s{i}"),
            username: "alice".into(),
            kind: "browser".into(),
            created_at: NOW,
            last_seen_at: NOW,
            expires_at: NOW + 3600,
            address: "127.0.0.1".into(),
            user_agent: None,
            restricted: false,
        })
        .unwrap();
    }
    let writes = rate(Duration::from_secs(3), 200, |i| {
        s.record_login_failure(&format!("user{}", i % 50), "10.0.0.1", NOW + i as i64)
            .unwrap()
    });
    let reads = rate(Duration::from_secs(3), 2000, |i| {
        let token = format!("{:064x}", i % 1000);
        assert!(s
            .session_by_token(&token, NOW + 10, 1800, 60)
            .unwrap()
            .is_some());
    });
    println!(
        "{label}: record_login_failure {writes:.0}/s, session_by_token {reads:.0}/s (one thread)"
    );
}

#[test]
#[ignore = "measures throughput; run with --ignored --nocapture"]
fn sqlite_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqlitePlatform::open(&dir.path().join(PLATFORM_FILE)).unwrap();
    measure("sqlite (WAL, synchronous=FULL)", &s);
}

#[test]
#[ignore = "measures throughput; run with --ignored --nocapture"]
fn postgres_throughput() {
    let base = std::env::var("SHUAN_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("set SHUAN_TEST_POSTGRES (. scripts/ensure-services.sh)");
    let schema = format!("bench_{}", std::process::id());
    let mut admin = ::postgres::Client::connect(&base, ::postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let result = std::panic::catch_unwind(|| {
        let s = PgPlatform::connect_with_pool_size(&url, 2).unwrap();
        measure("postgres (loopback)", &s);
    });
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    result.unwrap();
}
