//! Rotating the `platform-secrets` key through the API: seeds enrolled afterwards are
//! sealed under the new version at once (not after a restart), and seeds sealed under
//! the old version still sign in.

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::{now, TestServer, PASSWORD};

/// The key version a stored TOTP seed is sealed under (the sealed format's first 4 bytes).
fn seed_version(t: &TestServer, username: &str) -> u32 {
    let user = t
        .platform()
        .store
        .user(username)
        .unwrap()
        .unwrap_or_else(|| panic!("account {username}"));
    let sealed = &user.totp.as_ref().expect("enrolled").secret_enc;
    u32::from_be_bytes(sealed[..4].try_into().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn seeds_after_a_rotation_use_the_new_version_and_old_ones_still_open() {
    let t = TestServer::start().await;
    let (sec, sec_seed) = t.activate("secadmin", &t.otp("secadmin"), true).await;
    let before = seed_version(&t, "secadmin");
    let (s, v) = t
        .post(&sec, "/api/v1/keys/platform-secrets/rotate", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(t.platform().secrets.version(), before + 1);

    // Enrolled after the rotation: the new version, without a restart.
    t.activate("auditor", &t.otp("auditor"), true).await;
    assert_eq!(seed_version(&t, "auditor"), before + 1);

    // The seed sealed before still opens: secadmin signs in with a TOTP code.
    let code = sec_seed.unwrap().code_at(now()).unwrap();
    let (s, v) = t.login("secadmin", PASSWORD, Some(&code)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(seed_version(&t, "secadmin"), before);
}
