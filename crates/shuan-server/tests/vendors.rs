//! Vendors (issue 13, R-32) over HTTP, on each store backend: the security administrator
//! registers a vendor and a contract naming its personnel's vendor accounts and the data
//! to return or destroy; at the contract's end (the injected clock) the
//! background step records it, disables those accounts — a signed-in vendor is refused at
//! once and cannot sign in again — but not one another active contract still names, and
//! files one alert listing the data; running it again changes nothing.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

fn fresh_postgres_store() -> String {
    fresh_postgres_database("shuan_vendors")
}

async fn contract_end(store_url: Option<String>) {
    let t = TestServer::start_with(shuan_server::Settings::default(), store_url).await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let ops1 = t
        .user_with_role(&sys, &sec, "ops1", "ROOT", "vendor_operator", true)
        .await;
    let _ops2 = t
        .user_with_role(&sys, &sec, "ops2", "ROOT", "vendor_operator", true)
        .await;
    let _staff = t
        .user_with_role(&sys, &sec, "staff", "ROOT", "data_steward", false)
        .await;
    let clock = &t.platform().clock;
    let start = support::now() as i64;
    clock.set(start);

    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendors",
            json!({"name": "某信息技术有限公司", "credit_code": "91330100MA2ABCDE1X", "contact": "王工 13800000000"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vendor = v["id"].as_i64().unwrap();
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendors",
            json!({"name": "另一家", "credit_code": "123", "contact": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("credit_code"));
    let (s, v) = t
        .post(
            &sys,
            "/api/v1/vendors",
            json!({"name": "系统管理员登记", "credit_code": "91330100MA2ABCDE1X", "contact": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    let contract = |number: &str, personnel: Value, ends_at: i64| {
        json!({
            "vendor_id": vendor, "number": number, "department": "ROOT",
            "scope": "政务云平台运维", "data_clauses": "不得留存、复制、对外提供平台数据；合同终止后 10 日内返还或销毁",
            "data_items": ["运维日志副本", "数据库备份（2026 年）"],
            "personnel": personnel, "starts_at": start - 86_400, "ends_at": ends_at,
        })
    };
    // Personnel must be vendor accounts that exist.
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendor-contracts",
            contract("HT-0", json!(["staff"]), start + 60),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("personnel[0]"),
        "{v}"
    );
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendor-contracts",
            contract("HT-0", json!(["nobody"]), start + 60),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendor-contracts",
            contract("HT-0", json!([]), start - 86_400),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("ends_at"),
        "{v}"
    );

    // HT-1 ends in a minute with ops1 and ops2; HT-2 keeps ops2 on for a year.
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendor-contracts",
            contract("HT-1", json!(["ops1", "ops2"]), start + 60),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["status"], "active");
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendor-contracts",
            contract("HT-2", json!(["ops2"]), start + 365 * 86_400),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/vendor-contracts",
            contract("HT-1", json!([]), start + 60),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // Before the end (half a minute: the clock keeps running while the test does),
    // nothing happens; the vendor works.
    clock.set(start + 30);
    let p = t.platform();
    assert!(shuan_server::routes::vendors::end_due(p)
        .await
        .unwrap()
        .is_empty());
    let (s, v) = t.get(&ops1, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // At the end: ops1 disabled, signed out; ops2 kept for HT-2.
    clock.set(start + 60);
    let ended = shuan_server::routes::vendors::end_due(p).await.unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].disabled_accounts, ["ops1"]);
    assert!(shuan_server::routes::vendors::end_due(p)
        .await
        .unwrap()
        .is_empty());
    let (s, v) = t.get(&ops1, "/api/v1/departments").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, v) = t.get(&sys, "/api/v1/users/ops1").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["disabled"], true, "{v}");
    let (s, v) = t.get(&sys, "/api/v1/users/ops2").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["disabled"], false, "{v}");

    let (s, v) = t.get(&aud, &format!("/api/v1/vendor-contracts/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "ended");
    assert_eq!(v["disabled_accounts"], json!(["ops1"]));
    // One alert with the data to return or destroy.
    let (s, alerts) = t.get(&aud, "/api/v1/alerts").await;
    assert_eq!(s, StatusCode::OK, "{alerts}");
    let ours: Vec<&Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "vendor_contract_ended")
        .collect();
    assert_eq!(ours.len(), 1, "{alerts}");
    let text = ours[0]["summary_zh"].as_str().unwrap();
    assert!(
        text.contains("HT-1") && text.contains("运维日志副本"),
        "{text}"
    );
    // The end is in the ledger, by the node.
    let (s, records) = t
        .get(&aud, "/api/v1/audit?action=vendor_contract.end")
        .await;
    assert_eq!(s, StatusCode::OK, "{records}");
    assert_eq!(records.as_array().unwrap().len(), 1, "{records}");
    assert_eq!(records[0]["record"]["actor"]["kind"], "system");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_end_disables_its_vendor_accounts() {
    contract_end(None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn a_contract_end_disables_its_vendor_accounts_on_the_postgres_store() {
    let store = tokio::task::spawn_blocking(fresh_postgres_store)
        .await
        .unwrap();
    contract_end(Some(store)).await;
}
