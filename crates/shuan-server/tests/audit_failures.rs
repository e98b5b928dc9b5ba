//! How an authorized request ends is in the audit too: when the store then refuses (no
//! such account, grant, key, policy or session → 404; a conflicting state → 409) or fails
//! (a store that went away → 503), the request leaves an `error` record beside its
//! `allowed` one, under its request id; a refusal by a rule beside the policy (resetting
//! one's own credentials, deleting a default policy, an API key with an administrator's
//! role …) leaves a `denied` record. Over HTTP against the real server.

mod faulty_store;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use faulty_store::FaultyStore;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use shuan_server::init::{initialise, InitOptions};
use shuan_server::state::{Platform, SecretBox};
use support::{TestServer, PASSWORD};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// One request with its own request id.
async fn send(
    t: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    request_id: &str,
) -> (StatusCode, Value) {
    t.call_from(
        &t.client,
        Some(token),
        method,
        path,
        body,
        &[("x-request-id", request_id)],
    )
    .await
}

/// The records of one request, oldest first: (action, outcome, details).
async fn records(t: &TestServer, auditor: &str, request_id: &str) -> Vec<(String, String, Value)> {
    let mut r = t.audit_of(auditor, request_id).await;
    r.sort_by_key(|r| r["seq"].as_u64());
    r.into_iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or("").to_string(),
                r["outcome"].as_str().unwrap_or("").to_string(),
                r["details"].clone(),
            )
        })
        .collect()
}

/// The request was allowed, then failed with `code`: exactly an `allowed` and an `error`
/// record of `action`, the error's code in its details.
async fn assert_allowed_then_error(
    t: &TestServer,
    auditor: &str,
    request_id: &str,
    action: &str,
    code: &str,
) {
    let r = records(t, auditor, request_id).await;
    let shape: Vec<(&str, &str)> = r.iter().map(|(a, o, _)| (a.as_str(), o.as_str())).collect();
    assert_eq!(
        shape,
        [(action, "allowed"), (action, "error")],
        "{request_id}: {r:?}"
    );
    assert_eq!(r[1].2["code"], json!(code), "{request_id}: {r:?}");
}

/// The request was refused by a rule: exactly one `denied` record of `action` naming it.
async fn assert_denied(t: &TestServer, auditor: &str, request_id: &str, action: &str, rule: &str) {
    let r = records(t, auditor, request_id).await;
    assert_eq!(r.len(), 1, "{request_id}: {r:?}");
    assert_eq!((r[0].0.as_str(), r[0].1.as_str()), (action, "denied"));
    assert_eq!(r[0].2["rule"], json!(rule), "{request_id}: {r:?}");
    assert!(r[0].2["reason"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test(flavor = "multi_thread")]
async fn store_refusals_after_authorization_leave_an_error_record() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    use Method as M;
    struct Case<'a> {
        token: &'a str,
        method: Method,
        path: &'a str,
        body: Option<Value>,
        request_id: &'a str,
        action: &'a str,
        status: StatusCode,
        code: &'a str,
    }
    let case = |token: &'static str, method, path, body, request_id, action, status, code| Case {
        token,
        method,
        path,
        body,
        request_id,
        action,
        status,
        code,
    };
    let (sys_t, sec_t): (&'static str, &'static str) = ("sys", "sec");
    let missing = StatusCode::NOT_FOUND;
    let cases = [
        case(
            sys_t,
            M::POST,
            "/api/v1/users/ghost/unlock",
            None,
            "r-unlock",
            "user.unlock",
            missing,
            "not_found",
        ),
        case(
            sys_t,
            M::POST,
            "/api/v1/users/ghost/reset",
            None,
            "r-reset",
            "user.reset_credentials",
            missing,
            "not_found",
        ),
        case(
            sys_t,
            M::PATCH,
            "/api/v1/users/ghost",
            Some(json!({"display_name": "无"})),
            "r-update",
            "user.update",
            missing,
            "not_found",
        ),
        case(
            sys_t,
            M::DELETE,
            "/api/v1/users/ghost/sessions",
            None,
            "r-user-sessions",
            "session.revoke",
            missing,
            "not_found",
        ),
        case(
            sys_t,
            M::DELETE,
            "/api/v1/sessions/0123456789abcdef",
            None,
            "r-session",
            "session.revoke",
            missing,
            "not_found",
        ),
        case(
            sys_t,
            M::DELETE,
            "/api/v1/api-keys/0a0b0c0d0e0f",
            None,
            "r-key",
            "api_key.revoke",
            missing,
            "not_found",
        ),
        case(
            sys_t,
            M::DELETE,
            "/api/v1/departments/ROOT",
            None,
            "r-dept",
            "department.delete",
            StatusCode::CONFLICT,
            "conflict",
        ),
        case(
            sys_t,
            M::GET,
            "/api/v1/users/ghost",
            None,
            "r-read",
            "user.read",
            missing,
            "not_found",
        ),
        case(
            sec_t,
            M::DELETE,
            "/api/v1/users/sysadmin/roles/999999",
            None,
            "r-grant",
            "grant.delete",
            missing,
            "not_found",
        ),
        case(
            sec_t,
            M::GET,
            "/api/v1/users/ghost/roles",
            None,
            "r-grants",
            "grant.read",
            missing,
            "not_found",
        ),
        case(
            sec_t,
            M::DELETE,
            "/api/v1/policies/no-such-policy",
            None,
            "r-policy",
            "policy.delete",
            missing,
            "not_found",
        ),
        case(
            sec_t,
            M::POST,
            "/api/v1/users/ghost/roles",
            Some(
                json!({"role": "data_user", "department": "ROOT", "scope": {"kind": "own_department"}}),
            ),
            "r-grant-add",
            "grant.create",
            missing,
            "not_found",
        ),
    ];
    for c in cases {
        let token = if c.token == "sys" { &sys } else { &sec };
        let (s, v) = send(&t, token, c.method, c.path, c.body, c.request_id).await;
        assert_eq!(
            (s, code(&v)),
            (c.status, c.code),
            "{} {}: {v}",
            c.request_id,
            c.path
        );
        assert_allowed_then_error(&t, &aud, c.request_id, c.action, c.code).await;
    }
    // The failed unlock names what it was done to.
    let r = t.audit_of(&aud, "r-unlock").await;
    assert!(
        r.iter().all(|r| r["object"] == json!("user:ghost")),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_by_rule_leave_a_denied_record() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    // Nobody resets their own credentials.
    let (s, v) = send(
        &t,
        &sys,
        Method::POST,
        "/api/v1/users/sysadmin/reset",
        None,
        "r-self-reset",
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{v}");
    assert_denied(
        &t,
        &aud,
        "r-self-reset",
        "user.reset_credentials",
        "no_self_reset",
    )
    .await;
    let r = t.audit_of(&aud, "r-self-reset").await;
    assert_eq!(r[0]["object"], json!("user:sysadmin"));
    assert_eq!(r[0]["actor"]["id"], json!("sysadmin"));
    // Nobody grants themselves a role.
    let (s, _) = send(
        &t,
        &sec,
        Method::POST,
        "/api/v1/users/secadmin/roles",
        Some(json!({"role": "data_user", "department": "ROOT", "scope": {"kind": "self_only"}})),
        "r-self-grant",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_denied(&t, &aud, "r-self-grant", "grant.create", "no_self_grant").await;
    // Default policies stay.
    let (s, v) = send(
        &t,
        &sec,
        Method::DELETE,
        "/api/v1/policies/system_admin",
        None,
        "r-default-policy",
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "conflict"), "{v}");
    assert_denied(
        &t,
        &aud,
        "r-default-policy",
        "policy.delete",
        "default_policy",
    )
    .await;
    // An API key never holds an administrator's role.
    let (s, v) = send(
        &t,
        &sys,
        Method::POST,
        "/api/v1/api-keys",
        Some(json!({"name": "etl", "role": "system_admin", "department": "ROOT", "scope": {"kind": "all"}, "expires_in_days": 30})),
        "r-key-role",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "separation_of_duties"),
        "{v}"
    );
    assert_denied(&t, &aud, "r-key-role", "api_key.create", "api_key_role").await;
    // Separation of duties, checked by the store when the grant is made: the policy lets
    // the security administrator grant, the rule refuses this one.
    let (s, v) = send(
        &t,
        &sec,
        Method::POST,
        "/api/v1/users/sysadmin/roles",
        Some(json!({"role": "auditor", "department": "ROOT", "scope": {"kind": "all"}})),
        "r-sod-grant",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "separation_of_duties"),
        "{v}"
    );
    let r = records(&t, &aud, "r-sod-grant").await;
    let shape: Vec<(&str, &str)> = r.iter().map(|(a, o, _)| (a.as_str(), o.as_str())).collect();
    assert_eq!(
        shape,
        [("grant.create", "allowed"), ("grant.create", "denied")],
        "{r:?}"
    );
    assert_eq!(r[1].2["rule"], json!("separation_of_duties"));
    // An elevation that would break it is refused before it is filed.
    let (s, v) = send(
        &t,
        &sys,
        Method::POST,
        "/api/v1/elevations",
        Some(json!({"role": "auditor", "department": "ROOT", "scope": {"kind": "all"}, "reason": "查看审计", "duration_minutes": 30})),
        "r-sod-elevation",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "separation_of_duties"),
        "{v}"
    );
    assert_denied(
        &t,
        &aud,
        "r-sod-elevation",
        "elevation.request",
        "separation_of_duties",
    )
    .await;
    // A confirmed TOTP is not replaced by its holder.
    let (s, v) = send(
        &t,
        &sys,
        Method::POST,
        "/api/v1/session/totp",
        Some(json!({})),
        "r-totp-again",
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "conflict"), "{v}");
    assert_denied(
        &t,
        &aud,
        "r-totp-again",
        "session.totp_enrol",
        "totp_enrolled",
    )
    .await;
    // Nothing was changed by any of them.
    let (s, _) = t.get(&sys, "/api/v1/users/me").await;
    assert_eq!(s, StatusCode::OK, "the self-reset ended no session");
    let (_, keys) = t.get(&sys, "/api/v1/api-keys").await;
    assert_eq!(keys, json!([]));
}

/// A server whose store fails the methods the test names (otherwise the real SQLite
/// store of a freshly initialised data directory).
async fn start_faulty() -> (TestServer, Arc<FaultyStore>) {
    let dir = tempfile::tempdir().unwrap();
    let report = initialise(&InitOptions {
        data_dir: dir.path().to_path_buf(),
        store_url: None,
        org_code: "ROOT".into(),
        org_name: "测试市数据局".into(),
    })
    .unwrap();
    let store = Arc::new(FaultyStore::new(
        shuan_store::platform::open_platform(dir.path(), None).unwrap(),
    ));
    let keyring = shuan_crypto::keyring::Keyring::open(dir.path(), || None).unwrap();
    let secrets = SecretBox::from_keyring(dir.path(), &keyring).unwrap();
    drop(keyring);
    let ledger =
        shuan_server::init::open_ledger(dir.path(), shuan_ledger::Options::default()).unwrap();
    let platform = Platform::new(
        Arc::clone(&store) as Arc<dyn shuan_store::platform::PlatformStore>,
        Arc::new(ledger),
        dir.path().to_path_buf(),
        secrets,
        shuan_server::Settings::default(),
    )
    .unwrap();
    let app = shuan_server::app(Arc::new(platform));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let t = TestServer {
        base: format!("http://{addr}"),
        server: None,
        dir,
        otps: report
            .accounts
            .iter()
            .map(|a| (a.username.clone(), a.one_time_password.clone()))
            .collect(),
        client: Client::new(),
    };
    (t, store)
}

#[tokio::test(flavor = "multi_thread")]
async fn store_failures_after_authorization_leave_an_error_record() {
    let (t, store) = start_faulty().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let user = t
        .user_with_role(&sys, &sec, "zhangsan", "ROOT", "data_user", false)
        .await;
    let unavailable = (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");

    store.fail("set_setting");
    let policy = json!({"min_length": 14, "min_classes": 3, "history": 5, "max_age_days": 90});
    let (s, v) = send(
        &t,
        &sec,
        Method::PUT,
        "/api/v1/settings/password-policy",
        Some(policy),
        "f-password-policy",
    )
    .await;
    assert_eq!((s, code(&v)), unavailable, "{v}");
    assert_allowed_then_error(
        &t,
        &aud,
        "f-password-policy",
        "settings.update_security",
        "store_unavailable",
    )
    .await;
    let lockout = json!({"max_failures": 6, "window_minutes": 15});
    let (s, v) = send(
        &t,
        &sec,
        Method::PUT,
        "/api/v1/settings/lockout",
        Some(lockout),
        "f-lockout",
    )
    .await;
    assert_eq!((s, code(&v)), unavailable, "{v}");
    assert_allowed_then_error(
        &t,
        &aud,
        "f-lockout",
        "settings.update_security",
        "store_unavailable",
    )
    .await;
    store.heal();

    store.fail("clear_failures_for_user");
    let (s, v) = send(
        &t,
        &sys,
        Method::POST,
        "/api/v1/users/zhangsan/unlock",
        None,
        "f-unlock",
    )
    .await;
    assert_eq!((s, code(&v)), unavailable, "{v}");
    assert_allowed_then_error(&t, &aud, "f-unlock", "user.unlock", "store_unavailable").await;
    store.heal();

    store.fail("set_password");
    let (s, v) = send(
        &t,
        &sys,
        Method::POST,
        "/api/v1/users/zhangsan/reset",
        None,
        "f-reset",
    )
    .await;
    assert_eq!((s, code(&v)), unavailable, "{v}");
    assert_allowed_then_error(
        &t,
        &aud,
        "f-reset",
        "user.reset_credentials",
        "store_unavailable",
    )
    .await;
    store.heal();

    store.fail("delete_sessions_of");
    let (s, v) = send(
        &t,
        &sys,
        Method::DELETE,
        "/api/v1/users/zhangsan/sessions",
        None,
        "f-user-sessions",
    )
    .await;
    assert_eq!((s, code(&v)), unavailable, "{v}");
    assert_allowed_then_error(
        &t,
        &aud,
        "f-user-sessions",
        "session.revoke",
        "store_unavailable",
    )
    .await;
    store.heal();

    // A sign-in recorded as allowed whose session then cannot be stored.
    store.fail("create_session");
    let (s, v) = t
        .call_from(
            &t.client,
            None,
            Method::POST,
            "/api/v1/session",
            Some(json!({"username": "zhangsan", "password": PASSWORD})),
            &[("x-request-id", "f-login")],
        )
        .await;
    assert_eq!((s, code(&v)), unavailable, "{v}");
    assert_allowed_then_error(&t, &aud, "f-login", "session.login", "store_unavailable").await;
    store.heal();

    store.fail("delete_session");
    let (s, v) = send(
        &t,
        &user,
        Method::DELETE,
        "/api/v1/session",
        None,
        "f-logout",
    )
    .await;
    assert_eq!((s, code(&v)), unavailable, "{v}");
    assert_allowed_then_error(&t, &aud, "f-logout", "session.logout", "store_unavailable").await;
    store.heal();

    // Healed, the same requests succeed: nothing was half-done.
    let (s, _) = send(
        &t,
        &sys,
        Method::POST,
        "/api/v1/users/zhangsan/unlock",
        None,
        "f-unlock-2",
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.get(&user, "/api/v1/users/me").await;
    assert_eq!(s, StatusCode::OK, "the failed reset ended no session");
}
