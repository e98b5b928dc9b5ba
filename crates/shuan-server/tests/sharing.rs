//! Data sharing over HTTP (issue 12) against a real server and real PostgreSQL and
//! MariaDB sources: a steward registers a source (its tables enter the catalogue), each
//! 共享属性 runs its flow (无条件 → agreement at once; 有条件 → steward (and chief data
//! officer) approve, the agreement signed with SM2; 不予 → refused with its basis), a data
//! user calls the published service under the agreement, and every rule is checked at
//! call time: expiry to the second with the server's injected clock, revocation on the
//! next call, masking per agreement, the CSV watermark, the row cap, the rate limit, and
//! one audit record per call naming its agreement. Then the attacks of the issue.
//!
//! The sources are databases made for each test (`shuan_share_<pid>_<n>`) on the servers
//! SHUAN_TEST_POSTGRES / SHUAN_TEST_MYSQL name; a test whose variable was unset at build
//! time is ignored, and one whose server is unreachable fails.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A valid 18-digit resident id (checksum included) for row `i`.
fn resident_id(i: usize) -> String {
    let body = format!(
        "410102{:04}0{}1{}{:03}",
        1950 + i % 50,
        1 + i % 9,
        i % 9,
        i % 1000
    );
    let s: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(s % 11) as usize] as char)
}

const SURNAMES: [&str; 8] = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄"];
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋"];
const DISTRICTS: [&str; 3] = ["浉河区", "平桥区", "罗山县"];
/// Rows of the people table.
const PEOPLE: usize = 240;

fn person(i: usize) -> (i32, String, String, String, String, i32) {
    (
        i as i32,
        format!(
            "{}{}{}",
            SURNAMES[i % 8],
            GIVEN[(i / 8) % 8],
            GIVEN[(i / 3) % 8]
        ),
        resident_id(i),
        format!("139{:08}", 10_000_000 + i * 7919),
        DISTRICTS[i % 3].to_string(),
        1000 + (i as i32 * 37) % 5000,
    )
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

fn env_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} must be set"))
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').unwrap();
    format!("{}/{db}{query}", &base[..cut])
}

/// A fresh PostgreSQL database with the test tables; answers its URL.
fn seed_postgres_blocking() -> String {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let db = format!(
        "shuan_share_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .expect("SHUAN_TEST_POSTGRES is set but the server is unreachable");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let url = with_database(&url, &db);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE people (id integer PRIMARY KEY, 姓名 text, 身份证号 text, 手机号 text, \
         区县 text, 补贴金额 integer);
         CREATE INDEX ON people (身份证号);
         CREATE TABLE population (region text, year integer, total integer);
         CREATE TABLE budget (item text, amount integer);",
    )
    .unwrap();
    let mut tx = c.transaction().unwrap();
    for i in 0..PEOPLE {
        let (id, name, rid, phone, district, amount) = person(i);
        tx.execute(
            "INSERT INTO people VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, &name, &rid, &phone, &district, &amount],
        )
        .unwrap();
    }
    for (i, region) in DISTRICTS.iter().enumerate() {
        for year in 2015..2025 {
            tx.execute(
                "INSERT INTO population VALUES ($1, $2, $3)",
                &[
                    &region.to_string(),
                    &year,
                    &(100_000 + i as i32 * 1000 + year),
                ],
            )
            .unwrap();
        }
    }
    for i in 0..20 {
        tx.execute(
            "INSERT INTO budget VALUES ($1, $2)",
            &[&format!("项目{i}"), &(i * 1000)],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    url
}

/// The same tables in a fresh MariaDB database; answers its URL.
fn seed_mysql_blocking() -> String {
    use mysql::prelude::Queryable;
    let url = env_url("SHUAN_TEST_MYSQL");
    let db = format!(
        "shuan_share_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&url).unwrap())
        .init(vec!["SET NAMES utf8mb4"]);
    let mut admin =
        mysql::Conn::new(opts).expect("SHUAN_TEST_MYSQL is set but the server is unreachable");
    admin
        .query_drop(format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db} CHARACTER SET utf8mb4"
        ))
        .unwrap();
    let url = with_database(&url, &db);
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&url).unwrap())
        .init(vec!["SET NAMES utf8mb4"]);
    let mut c = mysql::Conn::new(opts).unwrap();
    c.query_drop(
        "CREATE TABLE people (id int PRIMARY KEY, 姓名 varchar(32), 身份证号 varchar(18), \
         手机号 varchar(11), 区县 varchar(16), 补贴金额 int, INDEX (身份证号))",
    )
    .unwrap();
    c.query_drop("CREATE TABLE population (region varchar(16), year int, total int)")
        .unwrap();
    c.query_drop("CREATE TABLE budget (item varchar(32), amount int)")
        .unwrap();
    c.exec_batch(
        "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)",
        (0..PEOPLE).map(|i| {
            let (id, name, rid, phone, district, amount) = person(i);
            (id, name, rid, phone, district, amount)
        }),
    )
    .unwrap();
    c.exec_batch(
        "INSERT INTO population VALUES (?, ?, ?)",
        DISTRICTS.iter().enumerate().flat_map(|(i, r)| {
            (2015..2025).map(move |y| (r.to_string(), y, 100_000 + i as i32 * 1000 + y))
        }),
    )
    .unwrap();
    c.exec_batch(
        "INSERT INTO budget VALUES (?, ?)",
        (0..20).map(|i| (format!("项目{i}"), i * 1000)),
    )
    .unwrap();
    url
}

/// [`seed_postgres_blocking`] off the async runtime (the `postgres` client blocks).
async fn seed_postgres() -> String {
    tokio::task::spawn_blocking(seed_postgres_blocking)
        .await
        .unwrap()
}

/// [`seed_mysql_blocking`] off the async runtime.
async fn seed_mysql() -> String {
    tokio::task::spawn_blocking(seed_mysql_blocking)
        .await
        .unwrap()
}

/// The people of the test: the provider PROV's steward(s) and chief data officer, a data
/// user of the receiving department RECV and one of another department OTHR.
struct World {
    t: TestServer,
    aud: String,
    steward: String,
    steward2: String,
    cdo: String,
    alice: String,
    mallory: String,
    sys: String,
    sec: String,
}

async fn world() -> World {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    for (code, name) in [
        ("PROV", "市人社局"),
        ("RECV", "市民政局"),
        ("OTHR", "市交通局"),
    ] {
        let (s, v) = t
            .post(
                &sys,
                "/api/v1/departments",
                json!({"code": code, "name": name, "parent": "ROOT"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let steward = t
        .user_with_role(&sys, &sec, "steward", "PROV", "data_steward", false)
        .await;
    let steward2 = t
        .user_with_role(&sys, &sec, "steward2", "PROV", "data_steward", false)
        .await;
    let cdo = t
        .user_with_role(&sys, &sec, "cdo", "PROV", "chief_data_officer", false)
        .await;
    let alice = t
        .user_with_role(&sys, &sec, "alice", "RECV", "data_user", false)
        .await;
    let mallory = t
        .user_with_role(&sys, &sec, "mallory", "OTHR", "data_user", false)
        .await;
    World {
        t,
        aud,
        steward,
        steward2,
        cdo,
        alice,
        mallory,
        sys,
        sec,
    }
}

impl World {
    /// Registers the source as the steward; answers the catalogue codes by table name.
    async fn register(&self, name: &str, url: &str) -> std::collections::HashMap<String, Value> {
        let (s, v) = self
            .t
            .post(
                &self.steward,
                "/api/v1/sources",
                json!({"name": name, "url": url, "department": "PROV", "profile": "xinyang"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let text = v.to_string();
        // The password-free URL only; never a secret.
        assert!(!text.contains("url_sealed"));
        let (s, list) = self.t.get(&self.alice, "/api/v1/catalogue").await;
        assert_eq!(s, StatusCode::OK, "{list}");
        list.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["source_id"] == v["source"]["id"])
            .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
            .collect()
    }

    async fn call(&self, token: &str, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        self.t
            .call_from(
                &self.t.client,
                Some(token),
                Method::GET,
                path,
                None,
                headers,
            )
            .await
    }

    /// The `service.call` records of one request id.
    async fn call_records(&self, request_id: &str) -> Vec<Value> {
        self.t
            .audit_of(&self.aud, request_id)
            .await
            .into_iter()
            .filter(|r| r["action"] == "service.call")
            .collect()
    }

    /// Files a request as `token` and answers the answer.
    async fn request(
        &self,
        token: &str,
        resource: &str,
        fields: &[&str],
        scenario: &str,
    ) -> (StatusCode, Value) {
        self.t
            .post(
                token,
                "/api/v1/share-requests",
                json!({
                    "resource": resource,
                    "fields": fields,
                    "purpose": "核对低保对象身份",
                    "scenario": scenario,
                    "basis": "《社会救助暂行办法》第十一条",
                    "valid_days": 30,
                }),
            )
            .await
    }

    /// A conditional request by `token`, approved through all its steps with `limits`;
    /// answers the agreement.
    async fn conditional_agreement(
        &self,
        token: &str,
        people: &Value,
        scenario: &str,
        limits: Value,
    ) -> Value {
        let code = people["code"].as_str().unwrap();
        let (s, v) = self
            .request(
                token,
                code,
                &["id", "姓名", "身份证号", "手机号", "区县", "补贴金额"],
                scenario,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["id"].as_i64().unwrap();
        assert!(v.get("agreement").is_none(), "{v}");
        let steps: Vec<String> = serde_json::from_value(v["request"]["steps"].clone()).unwrap();
        let mut last = Value::Null;
        for step in &steps {
            let token = if step == "cdo" {
                &self.cdo
            } else {
                &self.steward
            };
            let mut body = limits.clone();
            body["comment"] = json!(format!("{step} 同意"));
            let (s, v) = self
                .t
                .post(token, &format!("/api/v1/share-requests/{id}/approve"), body)
                .await;
            assert_eq!(s, StatusCode::OK, "{step}: {v}");
            last = v;
        }
        let agreement = last["agreement"].clone();
        assert!(agreement["id"].as_i64().is_some(), "{last}");
        agreement
    }

    async fn publish(&self, body: Value) {
        let (s, v) = self.t.post(&self.steward, "/api/v1/services", body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}

fn rows(v: &Value) -> &Vec<Value> {
    v["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows: {v}"))
}

/// The whole flow for each 共享属性 on one source.
async fn flow_for_each_share_type(url: String, tag: &str) {
    let w = world().await;
    let entries = w.register(&format!("src-{tag}"), &url).await;
    let people = &entries["people"];
    let population = &entries["population"];
    let budget = &entries["budget"];
    // Defaults from the grading level (xinyang): the table of identifiers is shared only
    // conditionally; the statistics table is the lowest level, shared unconditionally.
    assert_eq!(people["share_type"], "conditional", "{people}");
    assert!(people["share_conditions"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
    assert_eq!(people["personal"], true);
    assert_eq!(population["share_type"], "unconditional", "{population}");
    let fields: Vec<&str> = people["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"身份证号"), "{fields:?}");

    // 无条件共享: the conformity check grants it at once, the platform's approval signed.
    let (s, v) = w
        .request(
            &w.alice,
            population["code"].as_str().unwrap(),
            &["region", "year", "total"],
            "sharing",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["request"]["status"], "approved");
    assert_eq!(v["agreement"]["signatures"][0]["approver"], "platform");
    let pop_agreement = v["agreement"]["id"].as_i64().unwrap();
    w.publish(json!({
        "name": format!("pop_{tag}"), "resource": population["code"], "fields": ["region", "year", "total"],
        "params": [{"name": "region", "column": "region", "op": "eq", "type": "string", "required": true},
                   {"name": "from", "column": "year", "op": "ge", "type": "integer", "required": false}],
        "max_rows": 20,
    }))
    .await;
    let (s, v) = w
        .call(
            &w.alice,
            &format!("/api/v1/services/pop_{tag}?region=平桥区&from=2020"),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["agreement"], pop_agreement);
    assert_eq!(rows(&v).len(), 5, "{v}");
    assert!(rows(&v)
        .iter()
        .all(|r| r["region"] == "平桥区"
            && r["year"].as_str().unwrap().parse::<i32>().unwrap() >= 2020));

    // 有条件共享: the steward (and the chief data officer for important data) approve.
    let agreement = w
        .conditional_agreement(&w.alice, people, "sharing", json!({}))
        .await;
    let sigs = agreement["signatures"].as_array().unwrap();
    let steps: Vec<&str> = sigs.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps[0], "steward");
    if people["important"] == true {
        assert_eq!(steps, ["steward", "cdo"]);
    }
    // Each signature verifies with the node's public key over the text it names, and
    // does not verify over another text.
    let key = shuan_crypto::node::load_node_public_key(w.t.data_dir()).unwrap();
    for s in sigs {
        let sig = shuan_crypto::sm2::Signature::from_bytes(
            &shuan_crypto::hex::decode(s["signature"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let text = s["signed_text"].as_str().unwrap();
        key.verify(text.as_bytes(), &sig).unwrap();
        assert!(key
            .verify(text.replace("核对", "查询").as_bytes(), &sig)
            .is_err());
        assert!(text.contains(&format!("\"agreement\":{}", agreement["id"])));
    }
    w.publish(json!({
        "name": format!("people_{tag}"), "resource": people["code"],
        "fields": ["姓名", "身份证号", "手机号", "补贴金额"],
        "params": [{"name": "id_card", "column": "身份证号", "op": "eq", "type": "string",
                    "required": true, "pattern": "[0-9]{17}[0-9X]"}],
        "max_rows": 5,
    }))
    .await;
    let (_, _, rid, phone, _, amount) = person(17);
    let (s, v) = w
        .call(
            &w.alice,
            &format!("/api/v1/services/people_{tag}?id_card={rid}"),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["agreement"], agreement["id"]);
    let row = &rows(&v)[0];
    // The agreement's scenario (sharing): the identifier a keyed pseudonym, the phone
    // partly hidden, the name's given name hidden; the amount kept.
    let masked_id = row["身份证号"].as_str().unwrap();
    assert_ne!(masked_id, rid);
    assert!(masked_id.starts_with('P'), "{row}");
    let masked_phone = row["手机号"].as_str().unwrap();
    assert_ne!(masked_phone, phone);
    assert!(
        masked_phone.starts_with("139") && masked_phone.ends_with(&phone[7..]),
        "{row}"
    );
    assert_eq!(row["补贴金额"], amount.to_string());
    assert!(!v.to_string().contains(&rid));

    // 不予共享: a steward may make it stricter, with its basis; a request is refused.
    let code = budget["code"].as_str().unwrap();
    let (s, v) = w
        .t
        .call(
            Some(&w.steward),
            Method::PATCH,
            &format!("/api/v1/catalogue/{code}"),
            Some(json!({"share_type": "none", "share_basis": "《中华人民共和国保守国家秘密法》第十三条"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["share_type"], "none");
    let (s, v) = w.request(&w.alice, code, &["item"], "sharing").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "share_refused");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("保守国家秘密法"));
    // Loosening back needs the chief data officer.
    let loosen = json!({"share_type": "unconditional"});
    let (s, v) =
        w.t.call(
            Some(&w.steward),
            Method::PATCH,
            &format!("/api/v1/catalogue/{code}"),
            Some(loosen.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "cdo_approval_required");
    let (s, v) =
        w.t.call(
            Some(&w.cdo),
            Method::PATCH,
            &format!("/api/v1/catalogue/{code}"),
            Some(loosen),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["share_type"], "unconditional");
    let _ = (&w.steward2, &w.mallory, &w.sys, &w.sec);
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn each_share_type_flows_on_postgres() {
    flow_for_each_share_type(seed_postgres().await, "pg").await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
async fn each_share_type_flows_on_mariadb() {
    flow_for_each_share_type(seed_mysql().await, "my").await;
}

/// Calls at valid_until − 1 s pass, at valid_until and + 1 s are refused; a revocation
/// refuses the very next call (and a replay of an earlier one); each call is one audit
/// record with its agreement id, the parameters masked.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn expiry_to_the_second_revocation_and_audit() {
    let w = world().await;
    let entries = w.register("src", &seed_postgres().await).await;
    let people = &entries["people"];
    let agreement = w
        .conditional_agreement(&w.alice, people, "sharing", json!({}))
        .await;
    let id = agreement["id"].as_i64().unwrap();
    let until = agreement["valid_until"].as_i64().unwrap();
    assert_eq!(
        until - agreement["valid_from"].as_i64().unwrap(),
        30 * 86_400
    );
    w.publish(json!({
        "name": "lookup", "resource": people["code"], "fields": ["姓名", "区县"],
        "params": [{"name": "id_card", "column": "身份证号", "op": "eq", "required": true}],
        "max_rows": 5,
    }))
    .await;
    let (_, _, rid, _, _, _) = person(3);
    let path = format!("/api/v1/services/lookup?id_card={rid}");
    let clock = &w.t.platform().clock;
    let mut expected = Vec::new();
    for (at, status, code) in [
        (until - 1, StatusCode::OK, None),
        (until, StatusCode::FORBIDDEN, Some("agreement_expired")),
        (until + 1, StatusCode::FORBIDDEN, Some("agreement_expired")),
    ] {
        clock.set(at);
        let request_id = format!("expiry-{at}");
        let (s, v) = w
            .call(&w.alice, &path, &[("x-request-id", request_id.as_str())])
            .await;
        assert_eq!(s, status, "at {at} ({} from valid_until): {v}", at - until);
        if let Some(c) = code {
            assert_eq!(v["error"]["code"], c);
        }
        expected.push((
            request_id,
            if code.is_some() { "denied" } else { "allowed" },
        ));
    }
    clock.reset();
    // Revocation: the next call is refused, and a replay of the earlier request too.
    let (s, v) = w
        .call(&w.alice, &path, &[("x-request-id", "before-revoke")])
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) =
        w.t.post(
            &w.steward,
            &format!("/api/v1/agreements/{id}/revoke"),
            json!({"reason": "停止合作"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "revoked");
    for rid in ["after-revoke", "before-revoke"] {
        let (s, v) = w.call(&w.alice, &path, &[("x-request-id", rid)]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        assert_eq!(v["error"]["code"], "agreement_revoked");
    }
    // A revoked agreement stays revoked.
    let (s, v) =
        w.t.call(
            Some(&w.steward),
            Method::POST,
            &format!("/api/v1/agreements/{id}/resume"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    expected.push(("after-revoke".into(), "denied"));
    // Every call is one record with the agreement id; the identifier never whole.
    for (request_id, outcome) in &expected {
        let records = w.call_records(request_id).await;
        assert_eq!(records.len(), 1, "{request_id}: {records:?}");
        let r = &records[0];
        assert_eq!(r["outcome"], *outcome, "{r}");
        assert_eq!(r["details"]["agreement"], id, "{r}");
        assert!(r["details"]["latency_us"].as_u64().is_some(), "{r}");
        assert!(
            !r.to_string().contains(&rid),
            "the parameter is masked: {r}"
        );
        assert_eq!(r["actor"]["id"], "alice");
    }
    let before = w.call_records("before-revoke").await;
    assert_eq!(before.len(), 2, "the first call and its replay: {before:?}");

    // The answer is due in 10 working days on the work calendar: filed Friday 2025-09-26
    // 17:00 (UTC+8), across the 调休 Sunday 09-28 (worked), National Day 10-01…10-08 (off)
    // and the make-up Saturday 10-11 (worked): due at the end of Thursday 10-16.
    const FILED: i64 = 1_758_877_200; // 2025-09-26T09:00:00Z
    const DUE: i64 = 1_760_630_400; // 2025-10-16T16:00:00Z = 2025-10-17 00:00 UTC+8
    clock.set(FILED);
    let (s, v) = w
        .request(
            &w.alice,
            people["code"].as_str().unwrap(),
            &["姓名"],
            "sharing",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["request"]["deadline"], DUE, "{v}");
    let filed = v["id"].clone();
    for (at, overdue) in [(DUE - 1, false), (DUE, true)] {
        clock.set(at);
        let (s, list) =
            w.t.get(&w.steward, "/api/v1/share-requests?overdue=true")
                .await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let listed = list.as_array().unwrap().iter().any(|r| r["id"] == filed);
        assert_eq!(listed, overdue, "at {at}: {list}");
    }
    clock.reset();
}

/// The masking scenario and the watermark follow each agreement; the row cap fails the
/// call; the rate limit answers 429 — all against MariaDB too.
async fn masking_watermark_cap_rate(url: String) {
    let w = world().await;
    let entries = w.register("src", &url).await;
    let people = &entries["people"];
    let a_alice = w
        .conditional_agreement(&w.alice, people, "sharing", json!({"rate_per_minute": 3}))
        .await;
    let a_mallory = w
        .conditional_agreement(&w.mallory, people, "test_env", json!({}))
        .await;
    w.publish(json!({
        "name": "by_district", "resource": people["code"],
        "fields": ["id", "身份证号", "补贴金额"],
        "params": [{"name": "district", "column": "区县", "op": "eq", "required": true},
                   {"name": "max_id", "column": "id", "op": "lt", "type": "integer"}],
        "max_rows": 100,
    }))
    .await;
    // Fix the clock at the start of a minute so the rate window is the same for all.
    let clock = &w.t.platform().clock;
    let t0 = support::now() as i64;
    clock.set(t0 - t0 % 60 + 60);
    let path = "/api/v1/services/by_district?district=平桥区&max_id=200";
    let csv = [("accept", "text/csv")];
    let (s, alice_csv) = w.call(&w.alice, path, &csv).await;
    assert_eq!(s, StatusCode::OK, "{alice_csv}");
    let (s, mallory_csv) = w.call(&w.mallory, path, &csv).await;
    assert_eq!(s, StatusCode::OK, "{mallory_csv}");
    let parse = |v: &Value| -> (Vec<String>, Vec<Vec<Option<String>>>) {
        let text = v.as_str().unwrap();
        let mut r = csv_rows(text);
        let header: Vec<String> = r
            .remove(0)
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        (header, r)
    };
    let (h1, r1) = parse(&alice_csv);
    let (h2, r2) = parse(&mallory_csv);
    assert_eq!(h1, ["id", "身份证号", "补贴金额"]);
    assert_eq!(r1.len(), 67);
    assert_eq!(r2.len(), 67);
    // Masking per agreement: two scenarios, two different hidings, never the raw id.
    for (a, b) in r1.iter().zip(&r2) {
        let raw = resident_id(a[0].as_deref().unwrap().parse().unwrap());
        assert_ne!(a[1].as_deref(), Some(raw.as_str()));
        assert_ne!(b[1].as_deref(), Some(raw.as_str()));
        assert_ne!(a[1], b[1]);
    }
    // The watermark: the registry names both extracts; the keyed parity of the carrier
    // digits matches its recipient on every row and the other recipient on about half.
    let mut keyring = shuan_crypto::keyring::Keyring::open(w.t.data_dir(), || None).unwrap();
    let keys = shuan_mask::key::keyring_mask_key(&mut keyring, "mask", None, false)
        .unwrap()
        .unwrap()
        .keys;
    let entries = shuan_mask::watermark::Registry::in_dir(w.t.data_dir())
        .read()
        .unwrap();
    let of = |dept: &str| {
        entries
            .iter()
            .find(|e| e.recipient == dept)
            .unwrap()
            .clone()
    };
    let (recv, othr) = (of("RECV"), of("OTHR"));
    assert_eq!(recv.carriers, ["补贴金额"]);
    let score = |entry: &shuan_mask::watermark::WatermarkEntry,
                 header: &[String],
                 rows: &[Vec<Option<String>>]| {
        let mut d = shuan_mask::watermark::Detector::new(&keys, entry, header).unwrap();
        for r in rows {
            d.add(r);
        }
        d.score()
    };
    let own = score(&recv, &h1, &r1);
    let other = score(&othr, &h1, &r1);
    assert!(own.compared >= 60, "{own:?}");
    assert_eq!(own.matched, own.compared, "{own:?}");
    assert!(other.matched < other.compared * 4 / 5, "{other:?}");
    let own2 = score(&othr, &h2, &r2);
    assert_eq!(own2.matched, own2.compared, "{own2:?}");
    // JSON answers carry no watermark change: the amounts are the source's.
    let (s, v) = w
        .call(
            &w.alice,
            "/api/v1/services/by_district?district=平桥区&max_id=10",
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for r in rows(&v) {
        let i: usize = r["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(r["补贴金额"], person(i).5.to_string());
    }
    // Row cap: 80 rows match, the cap is 100 → fine; the whole district (80) under a
    // service capped at 100 passes, but without max_id ... a wider filter fails loudly.
    let (s, v) = w
        .call(
            &w.alice,
            "/api/v1/services/by_district?district=平桥区&max_id=1000",
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "80 rows under the cap of 100: {v}");
    // That was alice's 3rd call this minute: the 4th is over her agreement's rate (3).
    let (s, v) = w
        .call(
            &w.alice,
            "/api/v1/services/by_district?district=平桥区&max_id=3",
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["error"]["code"], "rate_limited");
    let _ = a_alice;
    // Mallory's agreement has the default rate; her service capped lower fails loudly.
    w.publish(json!({
        "name": "by_district_small", "resource": people["code"], "fields": ["id"],
        "params": [{"name": "district", "column": "区县", "op": "eq", "required": true}],
        "max_rows": 10,
    }))
    .await;
    let (s, v) = w
        .call(
            &w.mallory,
            "/api/v1/services/by_district_small?district=平桥区",
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "row_cap_exceeded");
    assert!(v.get("rows").is_none());
    let _ = a_mallory;
    clock.reset();
}

fn csv_rows(text: &str) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for line in text.lines() {
        // The test data has no quoted commas.
        out.push(
            line.split(',')
                .map(|c| (!c.is_empty()).then(|| c.trim_matches('"').to_string()))
                .collect(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn masking_watermark_row_cap_and_rate_on_postgres() {
    masking_watermark_cap_rate(seed_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
async fn masking_watermark_row_cap_and_rate_on_mariadb() {
    masking_watermark_cap_rate(seed_mysql().await).await;
}

/// The attacks of the issue: each a clear 4xx with a code, one audit record, and nothing
/// leaked or changed.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn attacks_are_refused_and_recorded() {
    let w = world().await;
    let entries = w.register("src", &seed_postgres().await).await;
    let people = &entries["people"];
    let agreement = w
        .conditional_agreement(&w.alice, people, "sharing", json!({}))
        .await;
    let id = agreement["id"].as_i64().unwrap();
    w.publish(json!({
        "name": "lookup", "resource": people["code"], "fields": ["姓名", "补贴金额"],
        "params": [{"name": "id_card", "column": "身份证号", "op": "eq", "required": true,
                    "pattern": "[0-9]{17}[0-9X]"},
                   {"name": "id", "column": "id", "op": "eq", "type": "integer"},
                   {"name": "name", "column": "姓名", "op": "eq", "pattern": "(a+)+$", "max_length": 200}],
        "max_rows": 5, "paging": true,
    }))
    .await;
    let (_, _, rid, _, _, _) = person(5);
    let base = format!("/api/v1/services/lookup?id_card={rid}");
    let enc = |s: &str| {
        s.replace(' ', "%20")
            .replace('\'', "%27")
            .replace('=', "%3D")
    };
    let long_a = "a".repeat(190) + "!";
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            format!("/api/v1/services/lookup?id_card={}", enc("1' OR '1'='1")),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        (
            format!("{base}&id={}", enc("1 OR 1=1")),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        (
            format!("{base}&id=1e3"),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        (
            format!("{base}&debug=1"),
            StatusCode::BAD_REQUEST,
            "undeclared_parameter",
        ),
        (
            format!("{base}&id_card={rid}"),
            StatusCode::BAD_REQUEST,
            "duplicate_parameter",
        ),
        (
            "/api/v1/services/lookup?id=5".into(),
            StatusCode::BAD_REQUEST,
            "missing_parameter",
        ),
        (
            format!("{base}&limit=1000000"),
            StatusCode::BAD_REQUEST,
            "limit_exceeds_max_rows",
        ),
        (
            format!("{base}&name={long_a}"),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
    ];
    for (i, (path, status, code)) in cases.iter().enumerate() {
        let request_id = format!("attack-{i}");
        let started = std::time::Instant::now();
        let (s, v) = w
            .call(&w.alice, path, &[("x-request-id", request_id.as_str())])
            .await;
        assert_eq!(s, *status, "{path}: {v}");
        assert_eq!(v["error"]["code"], *code, "{path}: {v}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let records = w.call_records(&request_id).await;
        assert_eq!(records.len(), 1, "{path}: {records:?}");
        assert_eq!(records[0]["outcome"], "denied");
        assert_eq!(records[0]["details"]["code"], *code);
        assert_eq!(records[0]["details"]["agreement"], id);
    }
    // The pattern is the whole value: an injection with a valid id in front fails too.
    let (s, v) = w
        .call(&w.alice, &format!("{base}{}", enc("' OR 1=1 --")), &[])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // A pattern that compiles huge is refused when published.
    let (s, v) =
        w.t.post(
            &w.steward,
            "/api/v1/services",
            json!({"name": "bomb", "resource": people["code"], "fields": ["姓名"],
                   "params": [{"name": "id_card", "column": "身份证号", "required": true,
                               "pattern": "((a{100}){100}){100}"}], "max_rows": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "invalid_service");
    // A service on personal data without a required exact match is refused.
    let (s, v) =
        w.t.post(
            &w.steward,
            "/api/v1/services",
            json!({"name": "everything", "resource": people["code"], "fields": ["姓名"],
                   "params": [], "max_rows": 100}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "selective_predicate_required");
    // Another department's agreement: named or not, mallory gets nothing.
    let (s, v) = w
        .call(
            &w.mallory,
            &base,
            &[
                ("x-shuan-agreement", &id.to_string()),
                ("x-request-id", "foreign"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "agreement_not_yours");
    let r = w.call_records("foreign").await;
    assert_eq!(r[0]["actor"]["id"], "mallory");
    assert_eq!(r[0]["details"]["agreement"], id);
    let (s, v) = w.call(&w.mallory, &base, &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "no_agreement");
    // A purpose other than the agreement's.
    let (s, v) = w
        .call(&w.alice, &base, &[("x-shuan-purpose", "商业营销")])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "purpose_mismatch");
    // The legitimate call still works (nothing changed by the attacks).
    let (s, v) = w.call(&w.alice, &base, &[]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(rows(&v).len(), 1);

    // A provider asking for its own data cannot approve its own request.
    let (s, v) =
        w.t.post(
            &w.sys,
            "/api/v1/users",
            json!({"username": "dual", "display_name": "双角色", "department": "PROV"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let otp = v["one_time_password"].as_str().unwrap().to_string();
    for role in ["data_user", "data_steward"] {
        let (s, v) =
            w.t.post(
                &w.sec,
                "/api/v1/users/dual/roles",
                json!({"role": role, "department": "PROV", "scope": {"kind": "all"}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (dual, _) = w.t.activate("dual", &otp, false).await;
    let (s, v) = w
        .request(
            &dual,
            people["code"].as_str().unwrap(),
            &["姓名", "身份证号"],
            "sharing",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let own = v["id"].as_i64().unwrap();
    let (s, v) =
        w.t.post(
            &dual,
            &format!("/api/v1/share-requests/{own}/approve"),
            json!({"comment": "自己批"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "forbidden");
    let (_, r) =
        w.t.get(&w.steward, &format!("/api/v1/share-requests/{own}"))
            .await;
    assert_eq!(r["status"], "pending", "nothing changed: {r}");

    // A refusal needs its reason.
    let (s, v) =
        w.t.post(
            &w.steward,
            &format!("/api/v1/share-requests/{own}/reject"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "reason_required");

    // Concurrent approvals of one step: exactly one wins.
    let (s, v) = w
        .request(
            &w.alice,
            people["code"].as_str().unwrap(),
            &["姓名"],
            "sharing",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let contested = v["id"].as_i64().unwrap();
    let path = format!("/api/v1/share-requests/{contested}/approve");
    let (a, b) = tokio::join!(
        w.t.post(&w.steward, &path, json!({"comment": "甲"})),
        w.t.post(&w.steward2, &path, json!({"comment": "乙"})),
    );
    let statuses = [a.0, b.0];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{a:?} {b:?}"
    );
    let loser = if a.0 == StatusCode::OK { &b } else { &a };
    assert_eq!(loser.0, StatusCode::CONFLICT, "{loser:?}");
    let (_, r) =
        w.t.get(&w.steward, &format!("/api/v1/share-requests/{contested}"))
            .await;
    let approvals = r["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1, "{r}");
    let (s, list) = w.t.get(&w.aud, "/api/v1/agreements").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let made = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["request_id"] == contested)
        .count();
    assert!(made <= 1, "{list}");
}

/// The source URL's password is sealed: never in an answer, a list or the audit.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn a_source_password_is_never_answered() {
    let w = world().await;
    let url = seed_postgres().await;
    // The test server trusts local connections: a password in the URL is accepted and
    // must never come back.
    let with_password = url.replacen("postgres@", "postgres:S3cret-Pw@", 1);
    assert_ne!(with_password, url, "the URL names the postgres user: {url}");
    let (s, v) =
        w.t.post(
            &w.steward,
            "/api/v1/sources",
            json!({"name": "pw", "url": with_password, "department": "PROV"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(!v.to_string().contains("S3cret-Pw"), "{v}");
    let (_, list) = w.t.get(&w.steward, "/api/v1/sources").await;
    assert!(!list.to_string().contains("S3cret-Pw"), "{list}");
    let (_, audit) =
        w.t.get(&w.aud, "/api/v1/audit?action=source.register")
            .await;
    assert!(!audit.to_string().contains("S3cret-Pw"), "{audit}");
    // Only a steward of the department registers (a data user is refused).
    let (s, v) =
        w.t.post(
            &w.alice,
            "/api/v1/sources",
            json!({"name": "x", "url": url, "department": "PROV"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}

// ---- the console's sharing pages (issue 15) over the same flow ----

/// A browser already signed in with `token` (a session from the API's sign-in): the
/// console takes the session cookie.
fn console_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", format!("shuan_session={token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A page: status, where it redirects, its HTML.
async fn console_get(c: &reqwest::Client, base: &str, path: &str) -> (StatusCode, String) {
    let r = c.get(format!("{base}{path}")).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A form sent from one of the console's own pages (same origin, the page's CSRF token).
async fn console_post(
    c: &reqwest::Client,
    base: &str,
    path: &str,
    csrf: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let mut fields: Vec<(&str, &str)> = vec![("_csrf", csrf)];
    fields.extend_from_slice(form);
    let r = c
        .post(format!("{base}{path}"))
        .header("origin", base)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (r.status(), location, r.text().await.unwrap())
}

/// The page's CSRF token (every form carries it).
fn csrf_of(html: &str) -> String {
    let key = "name=\"_csrf\" value=\"";
    let start = html.find(key).expect("a form with its CSRF token") + key.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

/// The steward, chief data officer and data user walk the sharing flow in the console:
/// the user finds the resource in the catalogue and files the request from its page
/// (a missing 用途 said beside the field), the steward cannot refuse without a reason
/// and approves, the chief data officer signs off (the requester sees no decision form
/// on their own request), the user calls the published service from its page and sees
/// masked rows, the system administrator is denied the request's page, and a
/// revocation from the agreements page refuses the next call.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn console_pages_walk_the_sharing_flow() {
    let url = seed_postgres().await;
    let w = world().await;
    let base = w.t.base.clone();
    let entries = w.register("src-console", &url).await;
    let people = &entries["people"];
    let code = people["code"].as_str().unwrap().to_string();
    assert_eq!(people["share_type"], "conditional", "{people}");
    let alice = console_client(&w.alice);
    let steward = console_client(&w.steward);
    let cdo = console_client(&w.cdo);
    let sysadmin = console_client(&w.sys);

    // The catalogue lists the resource, and its page offers the request form.
    let (s, html) = console_get(&alice, &base, "/sharing/catalogue?share=conditional").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(&code) && html.contains("资源目录"), "{html}");
    let (s, none) = console_get(&alice, &base, "/sharing/catalogue?share=none").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!none.contains(&format!("<code>{code}</code>")));
    let (s, html) = console_get(&alice, &base, &format!("/sharing/catalogue/{code}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("申请共享") && html.contains("身份证号"),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let action = format!("/sharing/catalogue/{code}/request");
    let mut form = vec![
        ("fields", "id"),
        ("fields", "身份证号"),
        ("fields", "补贴金额"),
        ("purpose", ""),
        ("scenario", "sharing"),
        ("basis", "《社会救助暂行办法》第十一条"),
        ("valid_days", "30"),
    ];
    let (s, _, html) = console_post(&alice, &base, &action, &csrf, &form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("alert error") || html.contains("field-error"),
        "{html}"
    );
    // The form keeps what was typed and ticked.
    assert!(html.contains("《社会救助暂行办法》第十一条"), "{html}");
    form[3] = ("purpose", "核对低保对象身份");
    let (s, to, html) = console_post(&alice, &base, &action, &csrf, &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    let to = to.unwrap();
    let id: i64 = to
        .strip_prefix("/sharing/requests/")
        .and_then(|r| r.split('?').next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{to}"));
    let page = format!("/sharing/requests/{id}");
    let decide = format!("/sharing/requests/{id}/decide");

    // The requester sees the request, without a decision form.
    let (s, html) = console_get(&alice, &base, &to).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("待审批") && !html.contains(&decide), "{html}");
    // The system administrator's duties do not include sharing: denied in the policy's
    // words, inside the console.
    let (s, html) = console_get(&sysadmin, &base, &page).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("没有权限访问此页面"), "{html}");

    // The steward: a refusal needs its reason, then an approval.
    let (s, html) = console_get(&steward, &base, &page).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(&decide), "{html}");
    let csrf = csrf_of(&html);
    let (s, _, html) =
        console_post(&steward, &base, &decide, &csrf, &[("decision", "reject")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("f-note-error"), "{html}");
    let (s, _, html) = console_post(
        &steward,
        &base,
        &decide,
        &csrf,
        &[("decision", "approve"), ("note", "字段最小必要，同意")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");

    // The chief data officer signs off when the level asks for it.
    let (_, v) =
        w.t.get(&w.alice, &format!("/api/v1/share-requests/{id}"))
            .await;
    if v["status"] == "pending" {
        assert_eq!(v["next_step"], "cdo", "{v}");
        let (s, html) = console_get(&cdo, &base, &page).await;
        assert_eq!(s, StatusCode::OK, "{html}");
        assert!(html.contains("首席数据官审批"), "{html}");
        let csrf = csrf_of(&html);
        let (s, _, html) = console_post(
            &cdo,
            &base,
            &decide,
            &csrf,
            &[("decision", "approve"), ("rate_per_minute", "abc")],
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(html.contains("f-rate_per_minute-error"), "{html}");
        let (s, _, html) =
            console_post(&cdo, &base, &decide, &csrf, &[("decision", "approve")]).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    }
    let (s, html) = console_get(&alice, &base, &page).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("已批准") && html.contains("request-agreement"),
        "{html}"
    );
    let (_, v) =
        w.t.get(&w.alice, &format!("/api/v1/share-requests/{id}"))
            .await;
    let agreement = v["agreement_id"].as_i64().unwrap();

    // The user calls the published service from its page: masked rows.
    w.publish(json!({
        "name": "console_lookup", "resource": code,
        "fields": ["id", "身份证号", "补贴金额"],
        "params": [{"name": "sfzh", "column": "身份证号", "op": "eq", "required": true}],
        "max_rows": 10,
    }))
    .await;
    let (s, html) = console_get(&alice, &base, "/sharing/services").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("console_lookup"), "{html}");
    let rid = resident_id(7);
    let call = format!("/sharing/services/console_lookup?call=1&sfzh={rid}");
    let (s, html) = console_get(&alice, &base, &call).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"call-rows\""), "{html}");
    assert!(html.contains(&format!("共享协议 {agreement}")), "{html}");
    assert!(
        !html.contains(&format!("<td>{rid}</td>")),
        "the raw id was shown"
    );
    assert!(html.contains("返回 1 行"), "{html}");

    // The steward revokes the agreement from the agreements page; the next call fails.
    let (s, html) = console_get(&steward, &base, "/sharing/agreements").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("agreement-{agreement}")), "{html}");
    let csrf = csrf_of(&html);
    let (s, _, html) = console_post(
        &steward,
        &base,
        &format!("/sharing/agreements/{agreement}/revoke"),
        &csrf,
        &[("reason", "项目结束")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    let (s, html) = console_get(&alice, &base, &call).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("call-error") && !html.contains("call-rows"),
        "{html}"
    );

    // The auditor finds both calls in the log, each naming the agreement.
    let (s, v) =
        w.t.get(&w.aud, "/api/v1/audit?action=service.call&limit=100")
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let calls: Vec<&Value> = v
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|e| &e["record"])
        .filter(|r| r["object"] == "service:console_lookup")
        .collect();
    assert_eq!(calls.len(), 2, "{v}");
    assert!(
        calls
            .iter()
            .any(|r| r["outcome"] == "allowed" && r["details"]["agreement"] == json!(agreement)),
        "{v}"
    );
    assert!(calls.iter().any(|r| r["outcome"] == "denied"), "{v}");
}

/// A source on a host outside the server's allowed database hosts is refused before any
/// connection is tried, with a code, and the refusal is recorded.
#[tokio::test(flavor = "multi_thread")]
async fn a_source_on_a_host_not_allowed_is_refused() {
    let w = world().await;
    let (s, v) = w
        .t
        .post(
            &w.steward,
            "/api/v1/sources",
            json!({"name": "metadata", "url": "postgres://u:topsecret@169.254.169.254/x", "department": "PROV"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "source_host_not_allowed", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("169.254.169.254") && !m.contains("topsecret"),
        "{m}"
    );
    let (_, list) = w.t.get(&w.steward, "/api/v1/sources").await;
    assert_eq!(list, json!([]), "nothing was registered");
}
