//! Complaints (issue 13, R-37) over HTTP: the reporter's identity is readable by the
//! assigned handler and by nobody else — not the security administrator who received it,
//! the auditor, the chief data officer, the supervisor, a previous handler — every read and
//! refused attempt is a ledger record, and the identity is in no answer, no audit record
//! and no byte of the data directory (store, WAL, ledger). Vendors are never handlers;
//! handling is once, by the handler.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

const NAME: &str = "欧阳举报人";
const CONTACT: &str = "13912345678";

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_assigned_handler_reads_who_reported() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let (s, v) = t
        .post(
            &sys,
            "/api/v1/departments",
            json!({"code": "PROV", "name": "市人社局", "parent": "ROOT"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let cdo = t
        .user_with_role(&sys, &sec, "cdo", "PROV", "chief_data_officer", false)
        .await;
    let sup = t
        .user_with_role(&sys, &sec, "bureau", "ROOT", "supervisor", false)
        .await;
    let first = t
        .user_with_role(&sys, &sec, "jijian1", "ROOT", "data_steward", false)
        .await;
    let second = t
        .user_with_role(&sys, &sec, "jijian2", "ROOT", "data_steward", false)
        .await;
    let _vendor = t
        .user_with_role(&sys, &sec, "vendorop", "ROOT", "vendor_operator", true)
        .await;

    let body = json!({
        "department": "PROV",
        "subject": "违规查询社保数据",
        "details": "反映某窗口工作人员私自查询并外传参保人信息",
        "channel": "hotline",
        "reporter": {"name": NAME, "contact": CONTACT},
    });
    // Bad input names its field; only the security administrator receives.
    let mut bad = body.clone();
    bad["channel"] = json!("wechat");
    let (s, v) = t.post(&sec, "/api/v1/complaints", bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("channel"),
        "{v}"
    );
    let mut bad = body.clone();
    bad["reporter"]["name"] = json!("");
    let (s, v) = t.post(&sec, "/api/v1/complaints", bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reporter.name"),
        "{v}"
    );
    let (s, v) = t.post(&cdo, "/api/v1/complaints", body.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    let (s, v) = t.post(&sec, "/api/v1/complaints", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["anonymous"], false);
    assert!(!v.to_string().contains(NAME), "{v}");
    let id = v["id"].as_i64().unwrap();
    let mut anonymous = body.clone();
    anonymous.as_object_mut().unwrap().remove("reporter");
    let (s, v) = t.post(&sec, "/api/v1/complaints", anonymous).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let anon = v["id"].as_i64().unwrap();
    assert_eq!(v["anonymous"], true);

    // Assigning: never a vendor, never someone who is not there.
    let assign = |who: &str| json!({"handler": who});
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/complaints/{id}/assign"),
            assign("vendorop"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/complaints/{id}/assign"),
            assign("nobody"),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/complaints/{id}/assign"),
            assign("jijian1"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "assigned");

    let reporter = format!("/api/v1/complaints/{id}/reporter");
    // Nobody but the handler, whatever their roles.
    for token in [&sec, &aud, &cdo, &sup, &second] {
        let (s, v) = t.get(token, &reporter).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        assert!(!v.to_string().contains(NAME));
    }
    let (s, v) = t.get(&first, &reporter).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"name": NAME, "contact": CONTACT}));

    // Reassigned, the first handler reads nothing more; the second does.
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/complaints/{id}/assign"),
            assign("jijian2"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = t.get(&first, &reporter).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = t.get(&second, &reporter).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["name"], NAME);

    // Handling: the handler only, once.
    let handle = json!({"result": "经核查属实，已责令整改并追责"});
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/complaints/{id}/handle"),
            handle.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = t
        .post(
            &second,
            &format!("/api/v1/complaints/{id}/handle"),
            handle.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "handled");
    let (s, v) = t
        .post(&second, &format!("/api/v1/complaints/{id}/handle"), handle)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // An anonymous complaint has no reporter, even for its handler.
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/complaints/{anon}/assign"),
            assign("jijian1"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = t
        .get(&first, &format!("/api/v1/complaints/{anon}/reporter"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Readers read complaints, never the reporter.
    for token in [&aud, &cdo, &sup, &sec] {
        let (s, v) = t.get(token, "/api/v1/complaints").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
        assert!(!v.to_string().contains(NAME) && !v.to_string().contains(CONTACT));
    }
    let (s, v) = t.get(&first, "/api/v1/complaints").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    // Every read and refusal of the identity is on record, without the identity.
    let (s, records) = t
        .get(
            &aud,
            "/api/v1/audit?action=complaint.read_identity&limit=100",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{records}");
    let records: Vec<&Value> = records.as_array().unwrap().iter().collect();
    let outcomes = |o: &str| {
        records
            .iter()
            .filter(|r| r["record"]["outcome"] == o)
            .count()
    };
    assert_eq!(outcomes("allowed"), 2 + 1, "{records:?}"); // two reads, the anonymous ask
    assert_eq!(outcomes("denied"), 6, "{records:?}");
    let (s, all) = t.get(&aud, "/api/v1/audit?limit=1000").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!all.to_string().contains(NAME) && !all.to_string().contains(CONTACT));

    // And no byte of the data directory holds it in clear.
    let mut found = Vec::new();
    files(t.data_dir(), &mut found);
    assert!(found.len() > 3, "{found:?}");
    for f in found {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !contains(&bytes, NAME.as_bytes()),
            "{} holds the name",
            f.display()
        );
        assert!(
            !contains(&bytes, CONTACT.as_bytes()),
            "{} holds the contact",
            f.display()
        );
    }
}
