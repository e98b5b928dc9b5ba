//! The request-parsing fuzz harness, shared by the cargo-fuzz target (`fuzz/`) and the
//! `request_fuzz` test: bytes become one HTTP request (method, a real route with a fuzzed
//! tail, headers, body) sent to the real router over a real store and ledger in a
//! temporary directory. Whatever the bytes, the answer must be below 500 and nothing
//! may panic.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

use crate::init::{initialise, InitOptions};
use crate::{ServerConfig, Settings};

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    routes: Vec<String>,
    token: String,
    _dir: tempfile::TempDir,
}

/// Routes outside the OpenAPI document; every documented route is fuzzed too, taken
/// from the document itself so a new endpoint cannot be left out of the harness.
const EXTRA_ROUTES: &[&str] = &["/healthz", "/metrics", "/api/openapi.json", "/"];

/// A documented path with its parameters filled in: ids with a number, names with a
/// word (an existing account or department where the fuzzer's own token can reach it).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(p) if p == "id" || p.ends_with("_id") => "1".to_string(),
                Some("code") => "ROOT".to_string(),
                Some("username") => "sysadmin".to_string(),
                Some(_) => "fuzz".to_string(),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        initialise(&InitOptions {
            data_dir: dir.path().to_path_buf(),
            store_url: None,
            org_code: "ROOT".into(),
            org_name: "模糊测试".into(),
        })
        .expect("init");
        let config = ServerConfig {
            data_dir: dir.path().to_path_buf(),
            store_url: None,
            listen: "127.0.0.1:0".parse().expect("address"),
            tls: None,
            insecure_plain_http: false,
            settings: Settings::default(),
        };
        let platform = crate::open_platform(&config).expect("platform");
        // A signed-in, unrestricted system administrator, so that fuzzed requests get
        // past authentication into the handlers.
        let now = crate::state::now();
        let token = "shuan_st_fuzzing-harness-token".to_string();
        let store = Arc::clone(&platform.store);
        store
            .create_session(&shuan_store::platform::Session {
                token_hash: crate::auth::token_hash(&token),
                id: "fuzz".into(),
                username: "sysadmin".into(),
                kind: "api".into(),
                created_at: now,
                last_seen_at: now,
                expires_at: now + 365 * 86_400,
                address: "fuzz".into(),
                user_agent: None,
                restricted: false,
            })
            .expect("session");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (_, doc) = crate::api(Arc::clone(&platform));
        let mut routes: Vec<String> = doc.paths.paths.keys().map(|p| concrete(p)).collect();
        routes.extend(EXTRA_ROUTES.iter().map(|r| r.to_string()));
        Harness {
            runtime,
            app: crate::app(platform),
            routes,
            token,
            _dir: dir,
        }
    })
}

/// Sends the request the bytes describe; panics if the answer is a 5xx.
pub fn check_one(data: &[u8]) {
    let h = harness();
    let (head, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let pick = |i: usize| head.get(i).copied().unwrap_or(0) as usize;
    let method = METHODS[pick(0) % METHODS.len()];
    let route = &h.routes[pick(1) % h.routes.len()];
    let flags = pick(2);
    let tail = String::from_utf8_lossy(head.get(3..).unwrap_or(&[]));
    let tail: String = tail
        .chars()
        .filter(|c| !c.is_control() && *c != ' ' && *c != '#')
        .take(200)
        .collect();
    let uri = format!("{route}{tail}");
    let Ok(uri) = uri.parse::<axum::http::Uri>() else {
        return;
    };
    let mut req = Request::builder().method(method).uri(uri);
    if flags & 1 == 1 {
        req = req.header("authorization", format!("Bearer {}", h.token));
    }
    if flags & 2 == 2 {
        req = req.header("content-type", "application/json");
    }
    let Ok(req) = req.body(Body::from(body.to_vec())) else {
        return;
    };
    let status = h
        .runtime
        .block_on(h.app.clone().oneshot(req))
        .expect("infallible")
        .status();
    assert!(
        status.as_u16() < 500,
        "{method} {route}{tail}: answered {status}"
    );
}
