//! Misuse alerts over HTTP (滥用检测, R-19): refused sign-ins followed by a good one raise
//! an `after_denials` alert whose evidence is the real audit records; the rule set is
//! tuned through the API (a bad key refused and named, a good tune in force at once); the
//! alert is acknowledged and closed (not without a note); who may read and handle alerts
//! is the policy's; every request is in the audit.

mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{client_from, TestServer, PASSWORD};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// `refusals` sign-ins with a wrong password, then a good one, from `address` (each
/// account from its own, so that the address lockout of five failures is not reached).
async fn refused_then_signed_in(t: &TestServer, user: &str, refusals: usize, address: &str) {
    let client = client_from(address);
    let login = |password: &str| {
        t.call_from(
            &client,
            None,
            Method::POST,
            "/api/v1/session",
            Some(json!({"username": user, "password": password})),
            &[],
        )
    };
    for _ in 0..refusals {
        let (s, v) = login("Wrong#Password1").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    }
    let (s, v) = login(PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn alerts_of(t: &TestServer, token: &str, actor: &str) -> Vec<Value> {
    let (s, v) = t
        .get(
            token,
            &format!("/api/v1/alerts?rule=after_denials&actor={actor}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn denials_then_a_sign_in_raise_an_alert_that_is_handled_to_closed() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let _ = t
        .user_with_role(&sys, &sec, "dana", "ROOT", "data_user", false)
        .await;
    let dana = {
        let _ = t
            .user_with_role(&sys, &sec, "erin", "ROOT", "data_user", false)
            .await;
        let (s, v) = t.login("dana", PASSWORD, None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    };

    // Three refusals are below the default five: nothing.
    refused_then_signed_in(&t, "dana", 3, "127.0.0.2").await;
    assert!(alerts_of(&t, &sec, "dana").await.is_empty());

    // The rule set: the defaults, then a bad key refused by name, then a tune.
    let (s, v) = t.get(&sec, "/api/v1/alert-rules").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["custom"], json!(false));
    assert_eq!(
        v["parsed"]["rules"]["after_denials"]["min_denials"],
        json!(5)
    );
    assert!(v["toml"].as_str().unwrap().contains("[after_denials]"));
    let (s, v) = t
        .call(
            Some(&sec),
            Method::PUT,
            "/api/v1/alert-rules",
            Some(json!({"toml": "[after_denials]\nmin_denial = 3\n"})),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_rules"),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after_denials.min_denial"),
        "{v}"
    );
    let (s, v) = t
        .call(
            Some(&sec),
            Method::PUT,
            "/api/v1/alert-rules",
            Some(json!({"toml": "[after_denials]\nmin_denials = 3\n"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["custom"], json!(true));
    assert_eq!(
        v["parsed"]["rules"]["after_denials"]["min_denials"],
        json!(3)
    );
    // Keys left out keep their defaults.
    assert_eq!(
        v["parsed"]["rules"]["after_denials"]["window_minutes"],
        json!(10)
    );
    // Only the security administrator tunes.
    let (s, v) = t
        .call(
            Some(&aud),
            Method::PUT,
            "/api/v1/alert-rules",
            Some(json!({"toml": ""})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{v}");

    // Three refusals and a sign-in now alert.
    refused_then_signed_in(&t, "erin", 3, "127.0.0.3").await;
    let found = alerts_of(&t, &sec, "erin").await;
    assert_eq!(found.len(), 1, "{found:?}");
    let alert = &found[0];
    assert_eq!(alert["rule"], json!("after_denials"));
    assert_eq!(alert["label"], json!("拒绝后成功"));
    assert_eq!(alert["severity"], json!("high"));
    assert_eq!(alert["status"], json!("open"));
    let evidence: Vec<(String, u64)> = alert["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"].as_str().unwrap().into(),
                e["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(evidence.len(), 4, "three denials and the sign-in: {alert}");
    let node = t.platform().node.clone();
    assert!(evidence.iter().all(|(n, _)| *n == node));
    // Dana's earlier sign-in is not re-judged under the new rule.
    assert!(alerts_of(&t, &sec, "dana").await.is_empty());

    // The evidence points at the real records: the auditor's search finds them, and the
    // alert's detail (for the auditor) carries the same records.
    let (s, v) = t
        .get(&aud, "/api/v1/audit?actor=erin&action=session.login")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let logins: BTreeSet<u64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    for (_, seq) in &evidence {
        assert!(
            logins.contains(seq),
            "evidence seq {seq} is not erin's sign-in record"
        );
    }
    let id = alert["id"].as_i64().unwrap();
    let (s, v) = t.get(&aud, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let records = v["records"].as_array().unwrap();
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, evidence.iter().map(|e| e.1).collect::<Vec<_>>());
    let outcomes: Vec<&str> = records
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["denied", "denied", "denied", "allowed"]);
    assert!(records.iter().all(|r| r["actor"]["id"] == json!("erin")));
    // The security administrator handles alerts without reading the audit.
    let (s, v) = t.get(&sec, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["records"], Value::Null);
    assert_eq!(v["alert"]["id"], json!(id));

    // Who may: a data user reads no alerts; the auditor handles none.
    let (s, v) = t.get(&dana, "/api/v1/alerts").await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{v}");
    let (s, v) = t.get(&dana, "/api/v1/alert-rules").await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{v}");
    let (s, v) = t
        .post(&aud, &format!("/api/v1/alerts/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{v}");

    // Handling: acknowledged once, closed only with a note, closed for good.
    let (s, v) = t
        .post(&sec, &format!("/api/v1/alerts/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], json!("acknowledged"));
    assert_eq!(v["handled_by"], json!("secadmin"));
    let (s, v) = t
        .post(&sec, &format!("/api/v1/alerts/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "conflict"), "{v}");
    let (s, v) = t
        .post(&sec, &format!("/api/v1/alerts/{id}/close"), json!({}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "note_required"),
        "{v}"
    );
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/alerts/{id}/close"),
            json!({"note": "  "}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "note_required"),
        "{v}"
    );
    let (s, v) = t.get(&sec, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(v["alert"]["status"], json!("acknowledged"), "{s} {v}");
    let note = "已电话核实：本人输错密码 (verified by phone: mistyped password)";
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/alerts/{id}/close"),
            json!({"note": note}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], json!("closed"));
    assert_eq!(v["note"], json!(note));
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/alerts/{id}/close"),
            json!({"note": "again"}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "conflict"), "{v}");
    let (s, v) = t.get(&sec, "/api/v1/alerts?status=closed").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().iter().any(|a| a["id"] == json!(id)));
    let (s, v) = t
        .get(
            &sec,
            "/api/v1/alerts?status=open&rule=after_denials&actor=erin",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().is_empty());
    let (s, v) = t.get(&sec, "/api/v1/alerts?status=shut").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_input"),
        "{v}"
    );
    let (s, v) = t.get(&sec, "/api/v1/alerts/999999").await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"), "{v}");

    // Every handling request is in the audit: allowed, the note-less closes as errors,
    // the auditor's attempt as denied; the tune with its TOML.
    let (s, v) = t
        .get(&aud, "/api/v1/audit?action=alert.handle&limit=100")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut outcomes: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["record"]["actor"]["id"].as_str().unwrap().to_string(),
                e["record"]["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    outcomes.sort();
    let count = |who: &str, outcome: &str| {
        outcomes
            .iter()
            .filter(|(a, o)| a == who && o == outcome)
            .count()
    };
    assert_eq!(count("auditor", "denied"), 1, "{outcomes:?}");
    // Two acknowledges, four closes allowed by the policy; the second acknowledge, the
    // two note-less closes and the second close then failed.
    assert_eq!(count("secadmin", "allowed"), 6, "{outcomes:?}");
    assert_eq!(count("secadmin", "error"), 4, "{outcomes:?}");
    let (s, v) = t
        .get(
            &aud,
            "/api/v1/audit?action=alert_rules.update&outcome=allowed",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["record"]["details"]["toml"] == json!("[after_denials]\nmin_denials = 3\n")));
}

/// Account `fay` is refused five times (the default min_denials), then signs in: one
/// `after_denials` alert is filed.
async fn one_after_denials_alert(t: &TestServer) {
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let fay = t
        .user_with_role(&sys, &sec, "fay", "ROOT", "data_user", false)
        .await;
    for _ in 0..5 {
        let (s, v) = t.get(&fay, "/api/v1/users").await;
        assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{v}");
    }
    refused_then_signed_in(t, "fay", 0, "127.0.0.4").await;
    assert_eq!(alerts_of(t, &sec, "fay").await.len(), 1);
}

/// `--alert-syslog udp://HOST:PORT`: a filed alert arrives as one RFC 5424 line.
#[tokio::test(flavor = "multi_thread")]
async fn a_filed_alert_is_sent_as_a_syslog_line_over_udp() {
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let port = receiver.local_addr().unwrap().port();
    let settings = shuan_server::Settings {
        alert_syslog: Some(
            shuan_server::watch::SyslogTarget::parse(&format!("udp://127.0.0.1:{port}")).unwrap(),
        ),
        ..Default::default()
    };
    let t = TestServer::start_with(settings, None).await;
    one_after_denials_alert(&t).await;
    let mut buf = [0u8; 8192];
    let n = receiver
        .recv(&mut buf)
        .expect("a syslog datagram within 15 s");
    let line = std::str::from_utf8(&buf[..n]).unwrap();
    // Facility 13 (log audit) × 8 + severity 3 (high) = 107.
    assert!(line.starts_with("<107>1 "), "{line}");
    assert!(line.contains(" after_denials [shuanAlert@32473 "), "{line}");
    assert!(line.contains("actor=\"fay\""), "{line}");
    assert!(line.contains("拒绝后成功"), "{line}");
    assert!(line.contains(&t.platform().node), "{line}");

    assert!(shuan_server::watch::SyslogTarget::parse("tcp://127.0.0.1:514").is_err());
    assert!(shuan_server::watch::SyslogTarget::parse("udp://127.0.0.1").is_err());
    assert!(shuan_server::watch::SyslogTarget::parse("udp://:514").is_err());
    assert_eq!(
        shuan_server::watch::SyslogTarget::parse("udp://[::1]:514").unwrap(),
        shuan_server::watch::SyslogTarget {
            host: "::1".into(),
            port: 514
        }
    );
}

/// `--alert-webhook URL` beside `--alert-syslog`: a filed alert is posted as JSON to the
/// webhook (retried after the receiver refuses the first attempt) and still sent to
/// syslog; a receiver that never accepts is counted as a failed delivery in /metrics.
#[tokio::test(flavor = "multi_thread")]
async fn a_filed_alert_is_posted_to_the_webhook_after_a_refusal() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    // The receiver: refuses the first post (503), keeps the bodies of the others.
    let attempts = Arc::new(AtomicUsize::new(0));
    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post({
                let (attempts, bodies) = (Arc::clone(&attempts), Arc::clone(&bodies));
                move |axum::Json(body): axum::Json<Value>| async move {
                    if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    bodies.lock().unwrap().push(body);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        )
        .route(
            "/never",
            axum::routing::post(|| async { axum::http::StatusCode::INTERNAL_SERVER_ERROR }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let udp = receiver.local_addr().unwrap().port();

    for (path, accepted) in [("hook", true), ("never", false)] {
        let settings = shuan_server::Settings {
            alert_syslog: Some(
                shuan_server::watch::SyslogTarget::parse(&format!("udp://127.0.0.1:{udp}"))
                    .unwrap(),
            ),
            alert_webhook: Some(
                shuan_server::watch::WebhookTarget::parse(&format!("http://{hook}/{path}"))
                    .unwrap(),
            ),
            ..Default::default()
        };
        let t = TestServer::start_with(settings, None).await;
        one_after_denials_alert(&t).await;
        // Syslog still gets it.
        let mut buf = [0u8; 8192];
        let n = receiver
            .recv(&mut buf)
            .expect("a syslog datagram within 15 s");
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .contains("actor=\"fay\""));
        if accepted {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while bodies.lock().unwrap().is_empty() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no webhook post in 20 s"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(attempts.load(Ordering::SeqCst), 2, "one refusal, one retry");
            let body = bodies.lock().unwrap()[0].clone();
            assert_eq!(body["source"], "shuan");
            assert_eq!(body["type"], "misuse_alert");
            assert_eq!(body["alert"]["rule"], "after_denials");
            assert_eq!(body["alert"]["actor"], "fay");
            assert!(body["key"].as_str().unwrap().starts_with("after_denials:"));
        } else {
            // Three attempts over about 6 s, then counted.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                let text = t
                    .client
                    .get(format!("{}/metrics", t.base))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                if text
                    .lines()
                    .any(|l| l == "shuan_alert_delivery_failures_total 1")
                {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "{text}");
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    }

    use shuan_server::watch::WebhookTarget;
    assert!(WebhookTarget::parse("http://alerts.example.gov.cn/hook").is_err());
    assert!(WebhookTarget::parse("https://u:p@alerts.example.gov.cn/hook").is_err());
    assert!(WebhookTarget::parse("ftp://127.0.0.1/hook").is_err());
    assert!(WebhookTarget::parse("https://alerts.example.gov.cn/hook").is_ok());
    assert!(WebhookTarget::parse("http://[::1]:9000/hook").is_ok());
    assert!(WebhookTarget::parse("http://localhost:9000/hook").is_ok());
}
