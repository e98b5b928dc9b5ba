//! Serving over TLS from certificate files, and the loopback rule for plain HTTP
//! (issue 11: "TLS from certificate files (rustls); plain HTTP only on loopback unless
//! forced"). The certificate is made for the test by rcgen and trusted by the client
//! explicitly; nothing here trusts the system's roots.

use std::net::SocketAddr;
use std::path::Path;

use shuan_server::init::{initialise, InitOptions};
use shuan_server::{ServerConfig, ServerError, Settings, TlsFiles};

/// A data directory after `shuan init`; the one-time password of `sysadmin`.
fn initialised(dir: &Path) -> String {
    let report = initialise(&InitOptions {
        data_dir: dir.to_path_buf(),
        store_url: None,
        org_code: "ROOT".into(),
        org_name: "测试市数据局".into(),
    })
    .unwrap();
    report
        .accounts
        .iter()
        .find(|a| a.username == "sysadmin")
        .unwrap()
        .one_time_password
        .clone()
}

fn config(dir: &Path, listen: &str, tls: Option<TlsFiles>, forced: bool) -> ServerConfig {
    ServerConfig {
        data_dir: dir.to_path_buf(),
        store_url: None,
        listen: listen.parse().unwrap(),
        tls,
        insecure_plain_http: forced,
        settings: Settings::default(),
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files;
/// returns the files and the certificate for the client to trust.
fn certificate(dir: &Path) -> (TlsFiles, reqwest::Certificate) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_pem = made.cert.pem();
    let files = TlsFiles {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&files.cert, &cert_pem).unwrap();
    std::fs::write(&files.key, made.key_pair.serialize_pem()).unwrap();
    (
        files,
        reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap(),
    )
}

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[tokio::test]
async fn serves_the_api_and_console_over_tls_with_secure_cookies() {
    install_provider();
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let otp = initialised(data.path());
    let (files, trusted) = certificate(certs.path());
    let server = shuan_server::start(config(data.path(), "127.0.0.1:0", Some(files), false))
        .await
        .unwrap();
    let port = server.addr.port();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(trusted)
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    // Cookies set over TLS are marked Secure: the browser never sends them in clear.
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let pre = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(pre.contains("; Secure"), "{pre}");
    let signed_in = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "sysadmin", "password": otp}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(session.starts_with("shuan_session="), "{session}");
    for attribute in ["; HttpOnly", "; SameSite=Strict", "; Secure"] {
        assert!(
            session.contains(attribute),
            "{attribute} missing: {session}"
        );
    }

    // The TLS port does not answer plain HTTP.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "plain HTTP was answered on the TLS port"
    );

    // A client that does not trust the certificate cannot connect.
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let refused = untrusting.get(format!("{base}/healthz")).send().await;
    assert!(refused.is_err(), "an untrusted certificate was accepted");

    server.stop().await.unwrap();
}

#[tokio::test]
async fn plain_http_cookies_are_not_marked_secure_on_loopback() {
    let data = tempfile::tempdir().unwrap();
    initialised(data.path());
    let server = shuan_server::start(config(data.path(), "127.0.0.1:0", None, false))
        .await
        .unwrap();
    let page = reqwest::get(format!("http://{}/login", server.addr))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let pre = page.headers()["set-cookie"].to_str().unwrap().to_string();
    // A Secure cookie would never come back over plain HTTP: loopback sign-in would fail.
    assert!(!pre.contains("Secure"), "{pre}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback_unless_forced() {
    let data = tempfile::tempdir().unwrap();
    initialised(data.path());
    for listen in ["0.0.0.0:0", "[::]:0"] {
        match shuan_server::start(config(data.path(), listen, None, false)).await {
            Err(e @ ServerError::PlainHttpNotLoopback(_)) => {
                let message = e.to_string();
                // The message says what to do instead.
                assert!(message.contains("--tls-cert"), "{message}");
                assert!(message.contains("--insecure-plain-http"), "{message}");
            }
            Err(other) => panic!("{listen}: wrong refusal: {other}"),
            Ok(_) => panic!("{listen}: plain HTTP off loopback was served"),
        }
    }
    // Forced (behind a TLS-terminating proxy), it serves on every address.
    let server = shuan_server::start(config(data.path(), "0.0.0.0:0", None, true))
        .await
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", server.addr.port()).parse().unwrap();
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn unreadable_or_mismatched_tls_files_are_refused_naming_them() {
    install_provider();
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    initialised(data.path());
    let (files, _) = certificate(certs.path());

    // A missing key file.
    let missing = TlsFiles {
        cert: files.cert.clone(),
        key: certs.path().join("absent.key"),
    };
    let e = shuan_server::start(config(data.path(), "127.0.0.1:0", Some(missing), false))
        .await
        .err()
        .expect("a missing key file was accepted");
    assert!(matches!(e, ServerError::Tls(_)), "{e}");
    assert!(e.to_string().contains("absent.key"), "{e}");

    // The key of another certificate.
    let other = certs.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (other_files, _) = certificate(&other);
    let mismatched = TlsFiles {
        cert: files.cert.clone(),
        key: other_files.key,
    };
    // rustls checks at load that the key is the certificate's.
    let e = shuan_server::start(config(data.path(), "127.0.0.1:0", Some(mismatched), false))
        .await
        .err()
        .expect("a key of another certificate was accepted");
    assert!(matches!(e, ServerError::Tls(_)), "{e}");
    // A start refused for its TLS files holds nothing: the ledger and store of the data
    // directory open for the next start (they were once left locked by a failed start).
    let server = shuan_server::start(config(data.path(), "127.0.0.1:0", Some(files), false))
        .await
        .unwrap();
    server.stop().await.unwrap();
}
