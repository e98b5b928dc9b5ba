//! The real server over HTTP: first sign-in, TOTP, password policy, separation of duties,
//! lockout, session expiry, API keys, policies, elevations, the audit of every request,
//! fail-closed auditing, and bad input.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{client_from, now, TestServer, PASSWORD};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_time_password_allows_only_the_password_change_and_totp() {
    let t = TestServer::start().await;
    let otp = t.otp("sysadmin");
    let (s, v) = t.login("sysadmin", &otp, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["must_change_password"], json!(true));
    assert_eq!(v["must_enrol_totp"], json!(true));
    let token = v["token"].as_str().unwrap().to_string();
    let (s, v) = t.get(&token, "/api/v1/departments").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "password_change_required")
    );
    let (s, v) = t
        .post(
            &token,
            "/api/v1/session/password",
            json!({"current_password": otp, "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["must_enrol_totp"], json!(true));
    let (s, v) = t.get(&token, "/api/v1/departments").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "totp_enrolment_required")
    );
    let (s, v) = t.post(&token, "/api/v1/session/totp", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let secret = support::secret_from_base32(v["secret"].as_str().unwrap());
    let (s, v) = t
        .post(
            &token,
            "/api/v1/session/totp/confirm",
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNAUTHORIZED, "invalid_totp"),
        "{v}"
    );
    let good = secret.code_at(now()).unwrap();
    let (s, _) = t
        .post(
            &token,
            "/api/v1/session/totp/confirm",
            json!({"code": good}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = t.get(&token, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["code"], json!("ROOT"));
    // The one-time password no longer works.
    let (s, v) = t.login("sysadmin", &otp, None).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn totp_sign_in_refuses_a_missing_wrong_or_replayed_code() {
    let t = TestServer::start().await;
    let (_, secret) = t.activate("secadmin", &t.otp("secadmin"), true).await;
    let secret = secret.unwrap();
    let (s, v) = t.login("secadmin", PASSWORD, None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "totp_required"));
    let (s, v) = t.login("secadmin", PASSWORD, Some("123456")).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNAUTHORIZED, "invalid_totp"),
        "{v}"
    );
    let c = secret.code_at(now() + 30).unwrap();
    let (s, v) = t.login("secadmin", PASSWORD, Some(&c)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["must_enrol_totp"], json!(false));
    let (s, v) = t.login("secadmin", PASSWORD, Some(&c)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNAUTHORIZED, "invalid_totp"),
        "a replayed code: {v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn password_policy_refuses_weak_and_reused_passwords() {
    let t = TestServer::start().await;
    let otp = t.otp("auditor");
    let (_, v) = t.login("auditor", &otp, None).await;
    let token = v["token"].as_str().unwrap().to_string();
    for weak in [
        "short1A!",
        "alllowercaseletters",
        "auditor-Passw0rd-2026",
        "Password123!",
    ] {
        let (s, v) = t
            .post(
                &token,
                "/api/v1/session/password",
                json!({"current_password": otp, "new_password": weak}),
            )
            .await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "weak_password"),
            "{weak}: {v}"
        );
    }
    let (s, v) = t
        .post(
            &token,
            "/api/v1/session/password",
            json!({"current_password": otp, "new_password": otp}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "weak_password"),
        "reuse: {v}"
    );
    let (s, v) = t
        .post(
            &token,
            "/api/v1/session/password",
            json!({"current_password": "wrong", "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn separation_of_duties_is_enforced_when_granting() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/users/sysadmin/roles",
            json!({"role": "auditor", "department": "ROOT", "scope": {"kind": "all"}}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "separation_of_duties"),
        "{v}"
    );
    t.post(&sys, "/api/v1/users", json!({"username": "vendor1", "display_name": "运维", "department": "ROOT", "vendor": true}))
        .await;
    for role in [
        "security_admin",
        "system_admin",
        "auditor",
        "chief_data_officer",
    ] {
        let (s, v) = t
            .post(
                &sec,
                "/api/v1/users/vendor1/roles",
                json!({"role": role, "department": "ROOT", "scope": {"kind": "own_department"}}),
            )
            .await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::CONFLICT, "separation_of_duties"),
            "{role}: {v}"
        );
    }
    let (s, v) = t
        .post(&sec, "/api/v1/users/vendor1/roles", json!({"role": "vendor_operator", "department": "ROOT", "scope": {"kind": "self_only"}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/users/secadmin/roles",
            json!({"role": "data_steward", "department": "ROOT", "scope": {"kind": "all"}}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "self-grant: {v}"
    );
    let (s, v) = t
        .post(&sys, "/api/v1/api-keys", json!({"name": "对接", "role": "system_admin", "department": "ROOT", "scope": {"kind": "all"}, "expires_in_days": 30}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "separation_of_duties"),
        "{v}"
    );
    // The system administrator grants nothing; the security administrator creates no accounts.
    let (s, _) = t
        .post(
            &sys,
            "/api/v1/users/vendor1/roles",
            json!({"role": "data_user", "department": "ROOT", "scope": {"kind": "all"}}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .post(
            &sec,
            "/api/v1/users",
            json!({"username": "x1", "display_name": "x", "department": "ROOT"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn lockout_per_account_and_per_address_then_unlock() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    t.user_with_role(&sys, &sec, "zhangsan", "ROOT", "data_user", false)
        .await;
    // Brute force of one account from five addresses.
    for i in 2..7 {
        let c = client_from(&format!("127.0.0.{i}"));
        let (s, _) = t
            .call_from(
                &c,
                None,
                Method::POST,
                "/api/v1/session",
                Some(json!({"username": "zhangsan", "password": "Wrong-Passw0rd!"})),
                &[],
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let c = client_from("127.0.0.7");
    let (s, v) = t
        .call_from(
            &c,
            None,
            Method::POST,
            "/api/v1/session",
            Some(json!({"username": "zhangsan", "password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::LOCKED, "account_locked"), "{v}");
    let (s, _) = t
        .post(&sys, "/api/v1/users/zhangsan/unlock", json!({}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t
        .call_from(
            &c,
            None,
            Method::POST,
            "/api/v1/session",
            Some(json!({"username": "zhangsan", "password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Many accounts from one address.
    let c = client_from("127.0.0.9");
    for i in 0..5 {
        t.call_from(
            &c,
            None,
            Method::POST,
            "/api/v1/session",
            Some(json!({"username": format!("nobody{i}"), "password": "x"})),
            &[],
        )
        .await;
    }
    let (s, v) = t
        .call_from(
            &c,
            None,
            Method::POST,
            "/api/v1/session",
            Some(json!({"username": "zhangsan", "password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        "{v}"
    );
    // The failures and the lockout are in the audit.
    let aud = t.admin("auditor").await;
    let (_, v) = t.get(&aud, "/api/v1/audit?action=session.lockout").await;
    assert!(!v.as_array().unwrap().is_empty(), "{v}");
    let (_, v) = t
        .get(
            &aud,
            "/api/v1/audit?action=session.login&outcome=denied&actor=zhangsan",
        )
        .await;
    assert!(v.as_array().unwrap().len() >= 6, "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_expire_when_idle_and_can_be_ended() {
    let settings = shuan_server::Settings {
        session_idle_secs: 2,
        ..Default::default()
    };
    let t = TestServer::start_with(settings, None).await;
    let sys = t.admin("sysadmin").await;
    let (s, _) = t.get(&sys, "/api/v1/users/me").await;
    assert_eq!(s, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let (s, v) = t.get(&sys, "/api/v1/users/me").await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    // Sign-out ends a session at once.
    let sec = t.admin("secadmin").await;
    let (s, _) = t
        .call(Some(&sec), Method::DELETE, "/api/v1/session", None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.get(&sec, "/api/v1/users/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn forced_sign_out_and_disabling_end_sessions() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let u = t
        .user_with_role(&sys, &sec, "lisi", "ROOT", "data_user", false)
        .await;
    let (s, v) = t.get(&sys, "/api/v1/sessions").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["username"] == "lisi"));
    let (s, _) = t
        .call(
            Some(&sys),
            Method::DELETE,
            "/api/v1/users/lisi/sessions",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.get(&u, "/api/v1/users/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, v) = t.login("lisi", PASSWORD, None).await;
    let u = v["token"].as_str().unwrap().to_string();
    let (s, _) = t
        .call(
            Some(&sys),
            Method::PATCH,
            "/api/v1/users/lisi",
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t.get(&u, "/api/v1/users/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = t.login("lisi", PASSWORD, None).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_act_with_their_role_until_revoked() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let (s, v) = t
        .post(&sys, "/api/v1/api-keys", json!({"name": "共享交换平台", "role": "data_user", "department": "ROOT", "scope": {"kind": "all"}, "expires_in_days": 30}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let key = v["api_key"].as_str().unwrap().to_string();
    let id = v["key"]["id"].as_str().unwrap().to_string();
    let (s, _) = t.get(&key, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t.get(&key, "/api/v1/users").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, list) = t.get(&sys, "/api/v1/api-keys").await;
    assert!(
        !list.to_string().contains(&key),
        "a key is never shown again"
    );
    let (s, _) = t
        .call(
            Some(&sys),
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.get(&key, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn policies_are_validated_and_take_effect_at_once() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let user = t
        .user_with_role(&sys, &sec, "wangwu", "ROOT", "data_user", false)
        .await;
    let (s, _) = t.get(&user, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::OK);
    let bad = r#"permit(principal, action == Action::"department.read", resource) when { principal.no_such_attribute };"#;
    let (s, v) = t
        .post(&sec, "/api/v1/policies", json!({"id": "bad", "text": bad}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_policy"),
        "{v}"
    );
    let (s, v) = t
        .post(&sec, "/api/v1/policies/validate", json!({"text": bad}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["valid"], json!(false));
    let forbid =
        r#"forbid(principal == User::"wangwu", action == Action::"department.read", resource);"#;
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/policies",
            json!({"id": "no-wangwu", "text": forbid, "description": "测试"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = t.get(&user, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("没有权限"),
        "{v}"
    );
    let (s, _) = t
        .call(
            Some(&sec),
            Method::DELETE,
            "/api/v1/policies/no-wangwu",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.get(&user, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::OK);
    // The auditor sees the change.
    let aud = t.admin("auditor").await;
    let (_, v) = t.get(&aud, "/api/v1/audit?action=policy.create").await;
    assert!(v.to_string().contains("no-wangwu"), "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn elevation_needs_the_chief_data_officer_and_expires() {
    let settings = shuan_server::Settings {
        min_elevation_secs: 3,
        ..Default::default()
    };
    let t = TestServer::start_with(settings, None).await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let user = t
        .user_with_role(&sys, &sec, "zhaoliu", "ROOT", "data_user", false)
        .await;
    let cdo = t
        .user_with_role(&sys, &sec, "cdo", "ROOT", "chief_data_officer", false)
        .await;
    let (s, _) = t.get(&user, "/api/v1/reports/account-hygiene").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = t
        .post(&user, "/api/v1/elevations", json!({"role": "supervisor", "department": "ROOT", "scope": {"kind": "all"}, "reason": "配合年度自查", "duration_minutes": 0}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, _) = t
        .post(
            &user,
            &format!("/api/v1/elevations/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "nobody approves their own");
    let (s, _) = t
        .post(&sec, &format!("/api/v1/elevations/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "only the chief data officer approves"
    );
    let (s, v) = t
        .post(
            &cdo,
            &format!("/api/v1/elevations/{id}/approve"),
            json!({"note": "同意"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = t
        .post(&cdo, &format!("/api/v1/elevations/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "conflict"),
        "decided twice: {v}"
    );
    let (s, v) = t
        .call_from(
            &t.client,
            Some(&user),
            Method::GET,
            "/api/v1/reports/account-hygiene",
            None,
            &[("x-request-id", "elev-use-1")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let aud = t.admin("auditor").await;
    let records = t.audit_of(&aud, "elev-use-1").await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["details"]["via_elevation"], json!(true));
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let (s, _) = t.get(&user, "/api/v1/reports/account-hygiene").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the elevation expired by itself");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_leaves_one_record_with_its_request_id() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let aud = t.admin("auditor").await;
    let (s, _) = t
        .call_from(
            &t.client,
            Some(&sys),
            Method::POST,
            "/api/v1/departments",
            Some(json!({"code": "D100", "name": "教育局", "parent": "ROOT"})),
            &[
                ("x-request-id", "req-create-d100"),
                ("x-shuan-purpose", "机构调整"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = t
        .call_from(
            &t.client,
            Some(&sys),
            Method::GET,
            "/api/v1/audit",
            None,
            &[("x-request-id", "req-denied")],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the system administrator reads no audit"
    );
    let r = t.audit_of(&aud, "req-create-d100").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["action"], json!("department.create"));
    assert_eq!(r[0]["object"], json!("department:D100"));
    assert_eq!(r[0]["outcome"], json!("allowed"));
    assert_eq!(r[0]["purpose"], json!("机构调整"));
    assert_eq!(r[0]["actor"]["id"], json!("sysadmin"));
    assert_eq!(r[0]["actor"]["department"], json!("ROOT"));
    assert_eq!(r[0]["actor"]["role"], json!("system_admin"));
    assert_eq!(r[0]["client"]["address"], json!("127.0.0.1"));
    let r = t.audit_of(&aud, "req-denied").await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["outcome"], json!("denied"));
    // No secret in any record.
    let (_, all) = t.get(&aud, "/api/v1/audit?limit=1000").await;
    let text = all.to_string();
    for (_, otp) in &t.otps {
        assert!(!text.contains(otp.as_str()));
    }
    assert!(!text.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_ledger_refuses_the_request_and_changes_nothing() {
    let settings = shuan_server::Settings {
        ledger_segment_max_bytes: Some(1),
        ..Default::default()
    };
    let t = TestServer::start_with(settings, None).await;
    let sys = t.admin("sysadmin").await;
    // Every commit starts a new segment file; take the directory away from under it.
    let audit = t.data_dir().join("audit");
    std::fs::rename(&audit, t.data_dir().join("audit.moved")).unwrap();
    std::fs::write(&audit, b"not a directory").unwrap();
    let (s, v) = t
        .post(
            &sys,
            "/api/v1/departments",
            json!({"code": "D200", "name": "公安局", "parent": "ROOT"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::SERVICE_UNAVAILABLE, "audit_unavailable"),
        "{v}"
    );
    assert!(
        t.platform().store.department("D200").unwrap().is_none(),
        "nothing changed"
    );
    let (s, _) = t
        .post(
            &sys,
            "/api/v1/users",
            json!({"username": "u200", "display_name": "x", "department": "ROOT"}),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(t.platform().store.user("u200").unwrap().is_none());
    let (s, _) = t.login("secadmin", &t.otp("secadmin"), None).await;
    assert_eq!(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        "an unrecordable sign-in does not happen"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let raw = |body: &'static str| {
        let c = t.client.clone();
        let url = format!("{}/api/v1/departments", t.base);
        let tok = sys.clone();
        async move {
            let r = c
                .post(url)
                .bearer_auth(tok)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = raw("{not json").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "{v}"
    );
    let (s, v) = raw(r#"{"code": 5, "name": "x"}"#).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "{v}"
    );
    let (s, v) = raw(r#"{"code": "A1", "name": "x", "admin": true}"#).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "unknown_field"),
        "{v}"
    );
    let big = format!(r#"{{"code": "A1", "name": "{}"}}"#, "x".repeat(2 << 20));
    // A client of its own: the server answers 413 and closes the connection with the
    // body unread, and a pooled connection reused after that fails the next request.
    let once = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let r = once
        .post(format!("{}/api/v1/departments", t.base))
        .bearer_auth(&sys)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (s, v) = t
        .post(
            &sys,
            "/api/v1/departments",
            json!({"code": "../etc", "name": "x"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_input"),
        "{v}"
    );
    let (s, v) = t.post(&sys, "/api/v1/users", json!({"username": "a'; DROP TABLE users;--", "display_name": "x", "department": "ROOT"})).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_input"),
        "{v}"
    );
    // An injection string where free text is allowed is stored as text.
    let name = "x'); DELETE FROM users; --";
    let (s, v) = t
        .post(
            &sys,
            "/api/v1/users",
            json!({"username": "inj", "display_name": name, "department": "ROOT"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = t.get(&sys, "/api/v1/users/inj").await;
    assert_eq!(v["display_name"], json!(name));
    assert!(t.platform().store.users().unwrap().len() >= 4);
    let (s, v) = t.get(&sys, "/api/v1/users/nosuch").await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = t.call(None, Method::GET, "/api/v1/users", None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    let (s, _) = t.get("shuan_st_forged", "/api/v1/users").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = t.get(&sys, "/api/v1/nothing-here").await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = t.get(&sys, "/api/v1/elevations/abc/approve").await;
    assert!(s.is_client_error(), "{s} {v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_health_and_metrics_answer() {
    let t = TestServer::start().await;
    let (s, v) = t.call(None, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(v["paths"]["/api/v1/users/{username}/roles"]["post"].is_object());
    let (s, v) = t.call(None, Method::GET, "/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["store"], json!("sqlite"));
    let r = reqwest::get(format!("{}/metrics", t.base)).await.unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("shuan_http_requests_total"), "{text}");
}

#[test]
fn every_error_code_is_in_the_docs_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/server.md"))
        .unwrap();
    for (code, status, _) in shuan_server::error::CODES {
        assert!(
            doc.contains(&format!("| `{code}` | {status} |")),
            "docs/server.md lacks {code}"
        );
    }
}
