//! Destruction (数据销毁, R-26) and legal holds over HTTP (issue 13), against a real server
//! on each store backend and real PostgreSQL and MariaDB sources:
//! - a key version crypto-shredded: data encrypted under it no longer decrypts (a fresh
//!   keyring refuses the key), the other version still does, and the certificate verifies
//!   with the node's public key — and not once changed;
//! - rows deleted by a filter in a real table, checked by counting on our own connection:
//!   exactly the matching rows are gone;
//! - a legal hold refuses the request, and placed after approval refuses the execution;
//! - nobody approves their own request; a rejection needs its reason; an unapproved
//!   destruction cannot be executed; what does not exist or is gone is refused.
//!
//! Sources are databases made per test (`shuan_destroy_<pid>_<n>`); the PostgreSQL store
//! variant uses a fresh database too. A test whose variable was unset at build time is
//! ignored; one whose server is unreachable fails.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use shuan_crypto::keyring::Keyring;
use support::*;

/// A fresh, empty PostgreSQL database; answers its URL.
fn fresh_postgres() -> String {
    fresh_postgres_database("shuan_destroy")
}

const CITIES: [&str; 2] = ["杭州", "宁波"];
/// Rows of `residents`: ids 1..=100, even ids in 宁波.
const ROWS: i32 = 100;

/// A PostgreSQL source with `residents`; answers its URL.
fn seed_postgres() -> String {
    let url = fresh_postgres();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE residents (id integer PRIMARY KEY, 姓名 text, 手机号 text, 城市 text)",
    )
    .unwrap();
    let mut tx = c.transaction().unwrap();
    for i in 1..=ROWS {
        tx.execute(
            "INSERT INTO residents VALUES ($1, $2, $3, $4)",
            &[
                &i,
                &format!("张{i}"),
                &format!("139{:08}", 10_000_000 + i * 7919),
                &CITIES[(i % 2) as usize],
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    url
}

/// The same table in a fresh MariaDB database; answers its URL.
fn seed_mysql() -> String {
    use mysql::prelude::Queryable;
    let url = fresh_mysql_database("shuan_destroy");
    let mut c = mysql_conn(&url);
    c.query_drop(
        "CREATE TABLE residents (id int PRIMARY KEY, 姓名 varchar(32), 手机号 varchar(11), 城市 varchar(16))",
    )
    .unwrap();
    c.exec_batch(
        "INSERT INTO residents VALUES (?, ?, ?, ?)",
        (1..=ROWS).map(|i| {
            (
                i,
                format!("张{i}"),
                format!("139{:08}", 10_000_000 + i * 7919),
                CITIES[(i % 2) as usize],
            )
        }),
    )
    .unwrap();
    url
}

/// Counts `residents` rows (in `城市` = `city` when given) on our own connection.
fn count(url: &str, city: Option<&str>) -> i64 {
    if url.starts_with("postgres") {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        match city {
            Some(city) => c
                .query_one("SELECT count(*) FROM residents WHERE 城市 = $1", &[&city])
                .unwrap()
                .get(0),
            None => c
                .query_one("SELECT count(*) FROM residents", &[])
                .unwrap()
                .get(0),
        }
    } else {
        use mysql::prelude::Queryable;
        let mut c = mysql_conn(url);
        let n: Option<i64> = match city {
            Some(city) => c
                .exec_first("SELECT count(*) FROM residents WHERE 城市 = ?", (city,))
                .unwrap(),
            None => c.query_first("SELECT count(*) FROM residents").unwrap(),
        };
        n.unwrap()
    }
}

/// The people: a steward and the chief data officer of the providing department PROV,
/// the three administrators.
struct World {
    t: TestServer,
    sys: String,
    sec: String,
    aud: String,
    steward: String,
    cdo: String,
}

async fn world(store_url: Option<String>) -> World {
    let t = TestServer::start_with(shuan_server::Settings::default(), store_url).await;
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
    let steward = t
        .user_with_role(&sys, &sec, "steward", "PROV", "data_steward", false)
        .await;
    let cdo = t
        .user_with_role(&sys, &sec, "cdo", "PROV", "chief_data_officer", false)
        .await;
    World {
        t,
        sys,
        sec,
        aud,
        steward,
        cdo,
    }
}

impl World {
    /// Registers `url` as source `name`; answers the catalogue's locator of `residents`.
    async fn register(&self, name: &str, url: &str) -> String {
        let (s, v) = self
            .t
            .post(
                &self.steward,
                "/api/v1/sources",
                json!({"name": name, "url": url, "department": "PROV", "profile": "xinyang"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, list) = self.t.get(&self.steward, "/api/v1/catalogue").await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let entry = list
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["source_id"] == v["source"]["id"] && e["name"] == "residents")
            .unwrap_or_else(|| panic!("residents is not catalogued: {list}"))
            .clone();
        entry["locator"].as_str().unwrap().to_string()
    }

    async fn request(&self, token: &str, target: Value, method: &str) -> (StatusCode, Value) {
        self.t
            .post(
                token,
                "/api/v1/destructions",
                json!({"target": target, "method": method, "reason": "超过保存期限，依《档案法》销毁"}),
            )
            .await
    }

    async fn approve(&self, token: &str, id: i64) -> (StatusCode, Value) {
        self.t
            .post(
                token,
                &format!("/api/v1/destructions/{id}/approve"),
                json!({"note": "同意销毁"}),
            )
            .await
    }

    async fn execute(&self, token: &str, id: i64) -> (StatusCode, Value) {
        self.t
            .post(
                token,
                &format!("/api/v1/destructions/{id}/execute"),
                json!({}),
            )
            .await
    }

    /// The node's SM2 public key, as an operator would keep it apart.
    fn node_key(&self) -> shuan_crypto::sm2::VerifyingKey {
        let pem = std::fs::read_to_string(self.t.data_dir().join("keys").join("node-sm2.pub.pem"))
            .expect("the node's public key file");
        shuan_crypto::sm2::VerifyingKey::from_public_key_pem(&pem).unwrap()
    }
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

fn code_of(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {v}"))
}

/// Encrypts `plain` under `key`/`version` of the node's keyring as the envelope format.
fn encrypt(keyring: &Keyring, key: &str, version: u32, plain: &[u8]) -> Vec<u8> {
    let data_key = keyring.key(key, version).unwrap();
    let mut out = Vec::new();
    shuan_crypto::envelope::encrypt(key, version, &data_key, &mut &plain[..], &mut out).unwrap();
    out
}

/// Decrypts an envelope with the keyring of `data_dir` opened afresh.
fn decrypt(data_dir: &std::path::Path, sealed: &[u8]) -> Result<Vec<u8>, String> {
    let keyring = Keyring::open(data_dir, || None).map_err(|e| e.to_string())?;
    let mut input = sealed;
    let header =
        shuan_crypto::envelope::Header::read_from(&mut input).map_err(|e| e.to_string())?;
    let key = keyring
        .key(&header.key_id, header.key_version)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    shuan_crypto::envelope::decrypt(&header, &key, &mut input, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

async fn key_version_shredded(store_url: Option<String>) {
    let w = world(store_url).await;
    let dir = w.t.data_dir().to_path_buf();
    let plain = "身份证号 330102199001011234 的档案".as_bytes();
    let (old, new) = {
        let mut keyring = Keyring::open(&dir, || None).unwrap();
        keyring.create_key("archive").unwrap();
        let old = encrypt(&keyring, "archive", 1, plain);
        keyring.rotate("archive").unwrap();
        let new = encrypt(&keyring, "archive", 2, plain);
        (old, new)
    };
    assert_eq!(decrypt(&dir, &old).unwrap(), plain);

    // The platform's own key is never a target; an unknown version is refused by name.
    let (s, v) = w
        .request(
            &w.sec,
            json!({"kind": "key_version", "key": "platform-secrets", "version": 1}),
            "crypto_shred",
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("target.key"),
        "{v}"
    );
    let (s, v) = w
        .request(
            &w.sec,
            json!({"kind": "key_version", "key": "archive", "version": 9}),
            "crypto_shred",
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // A method of another kind is refused naming the field.
    let (s, v) = w
        .request(
            &w.sec,
            json!({"kind": "key_version", "key": "archive", "version": 1}),
            "drop_table",
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("method"),
        "{v}"
    );

    let (s, v) = w
        .request(
            &w.sec,
            json!({"kind": "key_version", "key": "archive", "version": 1}),
            "crypto_shred",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = id_of(&v);
    assert_eq!(v["status"], "pending");
    // A second request for the same live target is refused.
    let (s, v) = w
        .request(
            &w.sec,
            json!({"kind": "key_version", "key": "archive", "version": 1}),
            "crypto_shred",
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // Not before approval.
    let (s, v) = w.execute(&w.sec, id).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(decrypt(&dir, &old).unwrap(), plain);
    // The security administrator cannot approve; the chief data officer does.
    let (s, v) = w.approve(&w.sec, id).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = w.approve(&w.cdo, id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "approved");
    // The chief data officer cannot execute.
    let (s, v) = w.execute(&w.cdo, id).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    let (s, v) = w.execute(&w.sec, id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["destruction"]["status"], "executed", "{v}");
    assert_eq!(v["destruction"]["certified"], true);

    // Proven by a failing decrypt on a freshly opened keyring; version 2 still decrypts.
    let err = decrypt(&dir, &old).unwrap_err();
    assert!(
        err.contains("archive") || err.contains("destroyed"),
        "{err}"
    );
    assert_eq!(decrypt(&dir, &new).unwrap(), plain);

    // The certificate verifies with the node's key, offline.
    let text = v["certificate"].to_string();
    let cert = shuan_govern::Certificate::parse(&text).unwrap();
    assert_eq!(cert.destruction_id(), Some(id));
    assert_eq!(cert.body["target"]["version"], 1);
    assert_eq!(cert.body["verification"]["passed"], true);
    assert_eq!(cert.body["requested_by"], "secadmin");
    assert_eq!(cert.body["approved_by"], "cdo");
    let key = w.node_key();
    let check = shuan_govern::certificate::verify(&cert, Some(&key)).unwrap();
    assert!(check.valid, "{:?}", check.problems);
    // The same document from GET …/certificate, for the auditor too.
    let (s, again) =
        w.t.get(&w.aud, &format!("/api/v1/destructions/{id}/certificate"))
            .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again, v["certificate"]);
    // One changed fact and it no longer verifies.
    let mut forged = cert.clone();
    forged.body["approved_by"] = json!("someone-else");
    let check = shuan_govern::certificate::verify(&forged, Some(&key)).unwrap();
    assert!(!check.valid);
    // Its digest is in the ledger record the certificate names.
    let (s, records) =
        w.t.get(&w.aud, "/api/v1/audit?action=destruction.certify")
            .await;
    assert_eq!(s, StatusCode::OK, "{records}");
    let text = records.to_string();
    assert!(text.contains(&cert.sm3), "{records}");

    // Already destroyed: refused.
    let (s, v) = w
        .request(
            &w.sec,
            json!({"kind": "key_version", "key": "archive", "version": 1}),
            "crypto_shred",
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "already_destroyed");
    let _ = (&w.sys, &w.steward);
}

async fn rows_deleted(source_url: String, store_url: Option<String>) {
    let w = world(store_url).await;
    let table = w.register("people-src", &source_url).await;
    let filter = json!([{"column": "城市", "op": "eq", "value": "宁波"}]);
    let target = json!({"kind": "rows", "source": "people-src", "table": table, "filter": filter});

    // Bad targets name their field.
    let (s, v) = w
        .request(
            &w.steward,
            json!({"kind": "rows", "source": "people-src", "table": table, "filter": [{"column": "不存在", "op": "eq", "value": 1}]}),
            "delete_rows",
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("target.filter[0].column"),
        "{v}"
    );
    let (s, v) = w
        .request(
            &w.steward,
            json!({"kind": "rows", "source": "people-src", "table": table, "filter": [{"column": "城市", "op": "eq", "value": "温州"}]}),
            "delete_rows",
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "nothing_to_destroy");
    let (s, v) = w
        .request(
            &w.steward,
            json!({"kind": "rows", "source": "nope", "table": table, "filter": filter}),
            "delete_rows",
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // The auditor may not ask for destructions: refused alike for a registered and an
    // unknown source, so a refusal tells nothing of which sources exist.
    for source in ["people-src", "nope"] {
        let (s, v) = w
            .request(
                &w.aud,
                json!({"kind": "rows", "source": source, "table": table, "filter": filter}),
                "delete_rows",
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{source}: {v}");
    }
    // An injection attempt is a value like any other: nothing matches it.
    let (s, v) = w
        .request(
            &w.steward,
            json!({"kind": "rows", "source": "people-src", "table": table, "filter": [{"column": "城市", "op": "eq", "value": "宁波' OR '1'='1"}]}),
            "delete_rows",
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // A legal hold on the table refuses the request.
    let (s, hold) = w
        .t
        .post(
            &w.sec,
            "/api/v1/legal-holds",
            json!({"scope": {"kind": "table", "source": "people-src", "table": table}, "reason": "（2026）浙01民初123号 诉讼保全"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let (s, v) = w.request(&w.steward, target.clone(), "delete_rows").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "legal_hold");
    // Released only with a reason.
    let hold_id = id_of(&hold);
    let (s, v) =
        w.t.post(
            &w.sec,
            &format!("/api/v1/legal-holds/{hold_id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) =
        w.t.post(
            &w.sec,
            &format!("/api/v1/legal-holds/{hold_id}/release"),
            json!({"note": "案件已结"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["active"], false);

    let (s, v) = w.request(&w.steward, target.clone(), "delete_rows").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = id_of(&v);
    assert_eq!(v["matched"], 50, "{v}");
    assert_eq!(v["department"], "PROV");

    // A rejection needs its reason; the requester cannot approve their own.
    let (s, v) =
        w.t.post(
            &w.cdo,
            &format!("/api/v1/destructions/{id}/reject"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(code_of(&v), "reason_required");
    let (s, v) = w.approve(&w.steward, id).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = w.approve(&w.cdo, id).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A hold placed after approval refuses the execution; nothing is deleted.
    let (s, hold) =
        w.t.post(
            &w.cdo,
            "/api/v1/legal-holds",
            json!({"scope": {"kind": "source", "source": "people-src"}, "reason": "审计调查"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let (s, v) = w.execute(&w.sec, id).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "legal_hold");
    let src = source_url.clone();
    let left = tokio::task::spawn_blocking(move || count(&src, Some("宁波")))
        .await
        .unwrap();
    assert_eq!(left, 50);
    let (s, v) =
        w.t.post(
            &w.cdo,
            &format!("/api/v1/legal-holds/{}/release", id_of(&hold)),
            json!({"note": "调查结束"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (s, v) = w.execute(&w.sec, id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["destruction"]["status"], "executed");
    assert_eq!(
        v["certificate"]["body"]["destroyed"]["rows_deleted"], 50,
        "{v}"
    );
    // Verified by a count on our own connection: exactly the matching rows are gone.
    let src = source_url.clone();
    let (ningbo, all) =
        tokio::task::spawn_blocking(move || (count(&src, Some("宁波")), count(&src, None)))
            .await
            .unwrap();
    assert_eq!((ningbo, all), (0, 50));
    let cert = shuan_govern::Certificate::parse(&v["certificate"].to_string()).unwrap();
    let check = shuan_govern::certificate::verify(&cert, Some(&w.node_key())).unwrap();
    assert!(check.valid, "{:?}", check.problems);
    // Executed once: a second execution is refused, and the same rows cannot be asked again.
    let (s, v) = w.execute(&w.sec, id).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = w.request(&w.steward, target, "delete_rows").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "nothing_to_destroy");

    // The list: the steward sees their own; the auditor reads them all.
    let (s, list) =
        w.t.get(&w.aud, "/api/v1/destructions?status=executed")
            .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (s, list) = w.t.get(&w.steward, "/api/v1/destructions").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let _ = &w.sys;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_version_is_crypto_shredded_and_certified() {
    key_version_shredded(None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn a_key_version_is_crypto_shredded_and_certified_on_the_postgres_store() {
    let store = tokio::task::spawn_blocking(fresh_postgres).await.unwrap();
    key_version_shredded(Some(store)).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn rows_are_deleted_in_postgres() {
    let src = tokio::task::spawn_blocking(seed_postgres).await.unwrap();
    rows_deleted(src, None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
async fn rows_are_deleted_in_mariadb() {
    let src = tokio::task::spawn_blocking(seed_mysql).await.unwrap();
    rows_deleted(src, None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    any(not(shuan_test_postgres), not(shuan_test_mysql)),
    ignore = "needs SHUAN_TEST_POSTGRES and SHUAN_TEST_MYSQL (see README)"
)]
async fn rows_are_deleted_in_mariadb_with_the_postgres_store() {
    let src = tokio::task::spawn_blocking(seed_mysql).await.unwrap();
    let store = tokio::task::spawn_blocking(fresh_postgres).await.unwrap();
    rows_deleted(src, Some(store)).await;
}

/// A dropped table: gone on our own connection; a view depending on it (PostgreSQL)
/// makes the drop fail, reported as failed and never certified.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn a_table_is_dropped_or_the_failure_reported() {
    let src = tokio::task::spawn_blocking(seed_postgres).await.unwrap();
    let w = world(None).await;
    let table = w.register("drop-src", &src).await;
    let target = json!({"kind": "table", "source": "drop-src", "table": table});
    // A view on the table: the drop will fail (no CASCADE).
    let src2 = src.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&src2, postgres::NoTls).unwrap();
        c.batch_execute("CREATE VIEW hz AS SELECT * FROM residents WHERE 城市 = '杭州'")
            .unwrap();
    })
    .await
    .unwrap();
    let (s, v) = w.request(&w.steward, target.clone(), "drop_table").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = id_of(&v);
    assert_eq!(v["matched"], 100);
    let (s, v) = w.approve(&w.cdo, id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = w.execute(&w.sec, id).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code_of(&v), "destruction_failed");
    let (s, d) = w.t.get(&w.aud, &format!("/api/v1/destructions/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["status"], "failed");
    assert_eq!(d["certified"], false);
    assert!(d["outcome"]["error"].as_str().is_some(), "{d}");
    let (s, v) =
        w.t.get(&w.aud, &format!("/api/v1/destructions/{id}/certificate"))
            .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let src3 = src.clone();
    let rows = tokio::task::spawn_blocking(move || count(&src3, None))
        .await
        .unwrap();
    assert_eq!(rows, 100);

    // Without the view, a new request drops it.
    let src4 = src.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&src4, postgres::NoTls).unwrap();
        c.batch_execute("DROP VIEW hz").unwrap();
    })
    .await
    .unwrap();
    let (s, v) = w.request(&w.steward, target.clone(), "drop_table").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = id_of(&v);
    let (s, v) = w.approve(&w.cdo, id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = w.execute(&w.sec, id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["certificate"]["body"]["verification"]["check"],
        "table_absent"
    );
    let src5 = src.clone();
    let exists: bool = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&src5, postgres::NoTls).unwrap();
        c.query_one("SELECT to_regclass('public.residents') IS NOT NULL", &[])
            .unwrap()
            .get(0)
    })
    .await
    .unwrap();
    assert!(!exists);
    let (s, v) = w.request(&w.steward, target, "drop_table").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "already_destroyed");
    let _ = (&w.sys, &w.sec);
}
