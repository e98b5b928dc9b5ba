//! A real server for the tests: `shuan init` in a temporary data directory, the server
//! listening on a loopback port, and a client with helpers to sign accounts in the way a
//! person would (one-time password → new password → TOTP enrolment).
#![allow(dead_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use shuan_auth::TotpSecret;
use shuan_server::init::{initialise, InitOptions};
use shuan_server::{RunningServer, ServerConfig, Settings};

/// A strong password for test accounts (meets the default policy).
pub const PASSWORD: &str = "Zhengwu#Data2026";

pub struct TestServer {
    pub base: String,
    pub server: Option<RunningServer>,
    pub dir: tempfile::TempDir,
    /// One-time passwords of sysadmin, secadmin, auditor.
    pub otps: Vec<(String, String)>,
    pub client: Client,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Settings::default(), None).await
    }

    pub async fn start_with(settings: Settings, store_url: Option<String>) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        // Off the runtime: a PostgreSQL store's client blocks.
        let options = InitOptions {
            data_dir: dir.path().to_path_buf(),
            store_url: store_url.clone(),
            org_code: "ROOT".into(),
            org_name: "测试市数据局".into(),
        };
        let report = tokio::task::spawn_blocking(move || initialise(&options))
            .await
            .unwrap()
            .unwrap();
        let otps = report
            .accounts
            .iter()
            .map(|a| (a.username.clone(), a.one_time_password.clone()))
            .collect();
        let server = shuan_server::start(ServerConfig {
            data_dir: dir.path().to_path_buf(),
            store_url,
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            insecure_plain_http: false,
            settings,
        })
        .await
        .unwrap();
        TestServer {
            base: format!("http://{}", server.addr),
            server: Some(server),
            dir,
            otps,
            client: Client::new(),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn platform(&self) -> &shuan_server::state::Platform {
        &self.server.as_ref().unwrap().platform
    }

    pub fn otp(&self, username: &str) -> String {
        self.otps
            .iter()
            .find(|(u, _)| u == username)
            .map(|(_, p)| p.clone())
            .unwrap()
    }

    /// One request; answers status and JSON body (Null when empty).
    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_from(&self.client, token, method, path, body, &[])
            .await
    }

    pub async fn call_from(
        &self,
        client: &Client,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(Some(token), Method::GET, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Some(token), Method::POST, path, Some(body)).await
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
        totp: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut body = json!({"username": username, "password": password});
        if let Some(t) = totp {
            body["totp"] = json!(t);
        }
        self.call(None, Method::POST, "/api/v1/session", Some(body))
            .await
    }

    /// Signs in with the one-time password, sets `PASSWORD`, and when `totp` enrols and
    /// confirms TOTP; answers the (now unrestricted) token and the TOTP seed.
    pub async fn activate(
        &self,
        username: &str,
        otp: &str,
        totp: bool,
    ) -> (String, Option<TotpSecret>) {
        let (s, v) = self.login(username, otp, None).await;
        assert_eq!(s, StatusCode::OK, "login {username}: {v}");
        let token = v["token"].as_str().unwrap().to_string();
        assert_eq!(v["must_change_password"], json!(true));
        let (s, v) = self
            .post(
                &token,
                "/api/v1/session/password",
                json!({"current_password": otp, "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "password {username}: {v}");
        if !totp {
            return (token, None);
        }
        let (s, v) = self.post(&token, "/api/v1/session/totp", json!({})).await;
        assert_eq!(s, StatusCode::OK, "totp enrol {username}: {v}");
        let secret = secret_from_base32(v["secret"].as_str().unwrap());
        // The previous step's code: the current and next stay free for sign-ins.
        let code = secret.code_at(now() - 30).unwrap();
        let (s, v) = self
            .post(
                &token,
                "/api/v1/session/totp/confirm",
                json!({"code": code}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "totp confirm {username}: {v}");
        (token, Some(secret))
    }

    /// An activated initial administrator's token.
    pub async fn admin(&self, username: &str) -> String {
        self.activate(username, &self.otp(username), true).await.0
    }

    /// Creates an account in `department` (as sysadmin `sys`), grants `role` with scope
    /// all (as secadmin `sec`), and activates it; answers its token.
    #[allow(clippy::too_many_arguments)]
    pub async fn user_with_role(
        &self,
        sys: &str,
        sec: &str,
        username: &str,
        department: &str,
        role: &str,
        vendor: bool,
    ) -> String {
        let (s, v) = self
            .post(sys, "/api/v1/users", json!({"username": username, "display_name": "测试", "department": department, "vendor": vendor}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "create {username}: {v}");
        let otp = v["one_time_password"].as_str().unwrap().to_string();
        let (s, v) = self
            .post(
                sec,
                &format!("/api/v1/users/{username}/roles"),
                json!({"role": role, "department": department, "scope": {"kind": "all"}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "grant {role} to {username}: {v}");
        let needs_totp = matches!(
            role,
            "system_admin" | "security_admin" | "auditor" | "chief_data_officer"
        );
        self.activate(username, &otp, needs_totp).await.0
    }

    /// The audit records of one request id, as the auditor sees them.
    pub async fn audit_of(&self, auditor: &str, request_id: &str) -> Vec<Value> {
        let (s, v) = self
            .get(auditor, &format!("/api/v1/audit?request_id={request_id}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["record"].clone())
            .collect()
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn secret_from_base32(s: &str) -> TotpSecret {
    TotpSecret::from_bytes(&totp_rs::Secret::Encoded(s.to_string()).to_bytes().unwrap())
}

/// A client whose connections come from `addr` (any 127.0.0.0/8 address on Linux).
pub fn client_from(addr: &str) -> Client {
    Client::builder()
        .local_address(addr.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

pub fn path(p: &str) -> PathBuf {
    PathBuf::from(p)
}

/// `url` with its database replaced by `db` (query string kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').expect("a database URL has a path");
    format!("{}/{db}{query}", &base[..cut])
}

/// A database name unique to this test process and call: `<prefix>_<pid>_<n>`.
pub fn fresh_database_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A fresh, empty database on the SHUAN_TEST_POSTGRES server (for a store or a
/// source); answers its URL. Panics — fails the test — when the server is unreachable.
pub fn fresh_postgres_database(prefix: &str) -> String {
    let url = std::env::var("SHUAN_TEST_POSTGRES").expect("SHUAN_TEST_POSTGRES must be set");
    let db = fresh_database_name(prefix);
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .expect("SHUAN_TEST_POSTGRES is set but the server is unreachable");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    with_database(&url, &db)
}

/// A connection in utf8mb4.
pub fn mysql_conn(url: &str) -> mysql::Conn {
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(url).unwrap())
        .init(vec!["SET NAMES utf8mb4"]);
    mysql::Conn::new(opts).expect("SHUAN_TEST_MYSQL is set but the server is unreachable")
}

/// A fresh, empty utf8mb4 database on the SHUAN_TEST_MYSQL server; answers its URL.
pub fn fresh_mysql_database(prefix: &str) -> String {
    use mysql::prelude::Queryable;
    let url = std::env::var("SHUAN_TEST_MYSQL").expect("SHUAN_TEST_MYSQL must be set");
    let db = fresh_database_name(prefix);
    mysql_conn(&url)
        .query_drop(format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db} CHARACTER SET utf8mb4"
        ))
        .unwrap();
    with_database(&url, &db)
}
