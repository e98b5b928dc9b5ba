//! Risk assessments and rectification, emergency plans and drills, the
//! collection register with one data, one source and lineage over
//! HTTP (issue 13), on each store backend:
//!
//! - an assessment's findings become items; only the person responsible for an item (or
//!   the security administrator) closes it, once, with evidence; an item open past its
//!   due date files one `rectification_overdue` alert on the injected clock;
//! - a plan not drilled within its interval is overdue and files one alert per missed
//!   date; a drill moves the date and its findings become items too;
//! - a collection of a field another department already shares is flagged with the
//!   catalogue entry; a review moves the review date, a `stop` ends the reviews;
//! - a derivation registered by hand is walked back to its origins and forward to its
//!   consumers, and a masking job records its own.

mod support;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

const DAY: i64 = 86_400;

fn code_of(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {v}"))
}

async fn alerts_of(t: &TestServer, aud: &str, rule: &str) -> Vec<Value> {
    let (s, v) = t.get(aud, "/api/v1/alerts").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == rule)
        .cloned()
        .collect()
}

/// A browser already signed in with `token` (a session from the API's sign-in).
fn console_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", format!("shuan_session={token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn console_get(c: &reqwest::Client, base: &str, path: &str) -> (StatusCode, String) {
    let r = c.get(format!("{base}{path}")).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The page's CSRF token (its forms' hidden `_csrf`).
fn csrf_of(html: &str) -> String {
    let key = "name=\"_csrf\" value=\"";
    let start = html.find(key).expect("a form with a CSRF token") + key.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

struct World {
    t: TestServer,
    sys: String,
    sec: String,
    aud: String,
    steward: String,
    /// A data user in PROV: responsible for a rectification item, nothing else.
    clerk: String,
}

async fn world(store: Option<String>) -> World {
    let t = TestServer::start_with(shuan_server::Settings::default(), store).await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    for (code, name) in [("PROV", "市人社局"), ("HEALTH", "市卫健委")] {
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
    let clerk = t
        .user_with_role(&sys, &sec, "clerk", "PROV", "data_user", false)
        .await;
    World {
        t,
        sys,
        sec,
        aud,
        steward,
        clerk,
    }
}

async fn risk_and_rectification(w: &World) {
    let t = &w.t;
    let clock = &t.platform().clock;
    let start = support::now() as i64;
    clock.set(start);
    let assessment = |findings: Value| {
        json!({"kind": "data_security", "title": "2026 年度数据安全风险评估", "scope": "社保业务系统及其数据库",
               "department": "PROV", "assessor": "某测评机构", "assessed_at": start - DAY,
               "conclusion": "总体风险中等。\n发现 2 项问题。", "findings": findings})
    };
    let findings = json!([
        {"finding": "数据库审计日志保存不足六个月", "severity": "high", "owner": "clerk", "due_at": start + 30 * DAY},
        {"finding": "外包人员账号未定期复核", "severity": "low", "owner": "steward", "due_at": start + 90 * DAY}
    ]);
    // Only the security administrator records; bad fields are named.
    for who in [&w.aud, &w.steward, &w.clerk] {
        let (s, v) = t
            .post(
                who,
                "/api/v1/risk-assessments",
                assessment(findings.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    for (bad, field) in [
        (
            json!([{"finding": "x", "severity": "urgent", "owner": "clerk", "due_at": start + DAY}]),
            "findings[0].severity",
        ),
        (
            json!([{"finding": "x", "severity": "low", "owner": "clerk", "due_at": start - 2 * DAY}]),
            "findings[0].due_at",
        ),
        (
            json!([{"finding": "x", "severity": "low", "owner": "nobody", "due_at": start + DAY}]),
            "nobody",
        ),
    ] {
        let (s, v) = t
            .post(&w.sec, "/api/v1/risk-assessments", assessment(bad))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {v}"
        );
    }
    let (s, a) = t
        .post(&w.sec, "/api/v1/risk-assessments", assessment(findings))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["kind_label"], "数据安全风险评估");
    assert_eq!(a["open_findings"], 2);
    let items = a["findings"].as_array().unwrap();
    let clerk_item = items.iter().find(|i| i["owner"] == "clerk").unwrap();
    let steward_item = items.iter().find(|i| i["owner"] == "steward").unwrap();
    assert_eq!(clerk_item["origin_kind"], "risk_assessment");
    assert_eq!(clerk_item["department"], "PROV");

    // The auditor reads all; the clerk reads only their own, and only by asking for them.
    let (s, v) = t.get(&w.aud, "/api/v1/rectifications").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (s, v) = t.get(&w.clerk, "/api/v1/rectifications").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = t.get(&w.clerk, "/api/v1/rectifications?mine=true").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], clerk_item["id"]);

    // Someone else's item cannot be closed by the clerk; an unknown one is refused alike.
    let close = |id: &Value| format!("/api/v1/rectifications/{id}/close");
    let evidence = json!({"evidence": "已将日志保存期调整为 180 天。\n见变更单 2026-118。"});
    let (s, v) = t
        .post(&w.clerk, &close(&steward_item["id"]), evidence.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = t
        .post(&w.clerk, &close(&json!(999_999)), evidence.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // 31 days on, the clerk's item is overdue: one alert, however often the check runs.
    clock.set(start + 31 * DAY);
    let p = t.platform();
    assert_eq!(
        shuan_server::routes::risk::check_overdue(p).await.unwrap(),
        1
    );
    assert_eq!(
        shuan_server::routes::risk::check_overdue(p).await.unwrap(),
        0
    );
    let alerts = alerts_of(t, &w.aud, "rectification_overdue").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["actor"], "clerk");
    let (_, v) = t.get(&w.aud, "/api/v1/rectifications?overdue=true").await;
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    // The owner finds it in the console (整改事项 is in their menu) and closes it there
    // with evidence, once.
    let console = console_client(&w.clerk);
    let (s, home) = console_get(&console, &t.base, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        home.contains("href=\"/governance/rectifications\""),
        "{home}"
    );
    let (s, page) = console_get(&console, &t.base, "/governance/rectifications").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("数据库审计日志保存不足六个月"), "{page}");
    assert!(
        !page.contains("外包人员账号未定期复核"),
        "only the clerk's own: {page}"
    );
    assert!(page.contains("已逾期"), "{page}");
    let csrf = csrf_of(&page);
    let r = console
        .post(format!(
            "{}/governance/rectifications/{}/close",
            t.base, clerk_item["id"]
        ))
        .header("origin", &t.base)
        .form(&[
            ("_csrf", csrf.as_str()),
            (
                "evidence",
                "已将日志保存期调整为 180 天。\n见变更单 2026-118。",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let (_, v) = t.get(&w.clerk, "/api/v1/rectifications?mine=true").await;
    assert_eq!(v[0]["closed_by"], "clerk", "{v}");
    assert_eq!(v[0]["overdue"], false);
    assert!(v[0]["evidence"].as_str().unwrap().contains("180 天"), "{v}");
    let (s, v) = t.post(&w.sec, &close(&clerk_item["id"]), evidence).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "conflict");
    let (_, v) = t.get(&w.aud, "/api/v1/risk-assessments").await;
    assert_eq!(v[0]["open_findings"], 1, "{v}");
    clock.reset();
}

async fn emergency_plans_and_drills(w: &World) {
    let t = &w.t;
    let clock = &t.platform().clock;
    let start = support::now() as i64;
    clock.set(start);
    let plan = json!({"title": "数据安全事件应急预案", "scope": "数据泄露、勒索病毒", "department": "PROV",
                      "version": "2026 版", "summary": "一、组织体系\n二、响应流程", "drill_interval_days": 180,
                      "adopted_at": start - 10 * DAY});
    let (s, v) = t
        .post(&w.steward, "/api/v1/emergency-plans", plan.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, p1) = t.post(&w.sec, "/api/v1/emergency-plans", plan).await;
    assert_eq!(s, StatusCode::CREATED, "{p1}");
    assert_eq!(p1["drill_due_at"], start + 170 * DAY);
    assert_eq!(p1["drill_overdue"], false);
    let p = t.platform();
    assert_eq!(
        shuan_server::routes::emergency::check_overdue(p)
            .await
            .unwrap(),
        0
    );
    // Past its interval without a drill: overdue, one alert for that due date.
    clock.set(start + 171 * DAY);
    assert_eq!(
        shuan_server::routes::emergency::check_overdue(p)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        shuan_server::routes::emergency::check_overdue(p)
            .await
            .unwrap(),
        0
    );
    let drills = format!("/api/v1/emergency-plans/{}/drills", p1["id"]);
    let drill = |held_at: i64| {
        json!({"held_at": held_at, "scenario": "核心库遭勒索加密", "form": "tabletop",
               "participants": ["安全管理员 张三", "系统管理员 李四"],
               "evaluation": "响应基本及时，上报链条清晰。", "lessons": "备份恢复步骤需细化。",
               "findings": [{"finding": "恢复手册缺少数据库版本说明", "severity": "medium", "owner": "steward", "due_at": held_at + 30 * DAY}]})
    };
    let (s, v) = t.post(&w.sec, &drills, drill(start - 20 * DAY)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a drill before its plan: {v}");
    let (s, v) = t
        .post(
            &w.sec,
            "/api/v1/emergency-plans/999999/drills",
            drill(start),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = t
        .post(
            &w.steward,
            "/api/v1/emergency-plans/999999/drills",
            drill(start),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "refused before told it is missing: {v}"
    );
    let (s, d) = t.post(&w.sec, &drills, drill(start + 171 * DAY)).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["findings"][0]["origin_kind"], "emergency_drill");
    let (_, plans) = t.get(&w.aud, "/api/v1/emergency-plans").await;
    assert_eq!(plans[0]["last_drill_at"], start + 171 * DAY, "{plans}");
    assert_eq!(plans[0]["drill_overdue"], false);
    let (_, list) = t.get(&w.aud, "/api/v1/emergency-drills").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, items) = t.get(&w.aud, "/api/v1/rectifications").await;
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["origin_kind"] == "emergency_drill" && i["owner"] == "steward"),
        "{items}"
    );
    // The next miss files again.
    clock.set(start + 352 * DAY);
    assert_eq!(
        shuan_server::routes::emergency::check_overdue(p)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        alerts_of(t, &w.aud, "emergency_drill_overdue").await.len(),
        2
    );
    clock.reset();
}

/// A catalogue entry of HEALTH sharing a resident id column, put in through the store
/// (as a scan of a registered source would). The store blocks: call it off the runtime's
/// threads.
fn seed_catalogue(w: &World) {
    use shuan_store::platform::{CatalogueEntry, CatalogueField, ShareSource};
    let store = Arc::clone(&w.t.server.as_ref().unwrap().platform.store);
    let now = support::now() as i64;
    let id = store
        .create_source(&ShareSource {
            id: 0,
            name: "health-db".into(),
            department: "HEALTH".into(),
            kind: "postgres".into(),
            display: "postgres://health/db".into(),
            url_sealed: vec![1, 2, 3],
            profile: "xinyang".into(),
            created_by: "steward".into(),
            created_at: now,
            scanned_at: None,
        })
        .unwrap();
    let field = |name: &str, t: Option<&str>| CatalogueField {
        name: name.into(),
        declared_type: Some("text".into()),
        data_type: t.map(str::to_string),
        label: None,
        category: None,
        level: "一般".into(),
        level_rank: 1,
        personal: t.is_some(),
    };
    let entry = CatalogueEntry {
        code: "HEALTH-0001".into(),
        source_id: id,
        locator: "public.residents".into(),
        name: "residents".into(),
        title: "居民健康档案基本信息".into(),
        department: "HEALTH".into(),
        summary: "居民基本信息".into(),
        format: "table".into(),
        fields: vec![
            field("sfzh", Some("cn_resident_id")),
            field("xm", Some("person_name")),
        ],
        profile: "xinyang".into(),
        level: "敏感".into(),
        level_rank: 3,
        important: false,
        personal: true,
        share_type: "conditional".into(),
        share_conditions: Some("经审批".into()),
        share_basis: None,
        open_type: "none".into(),
        open_conditions: None,
        share_method: "interface".into(),
        update_cycle: "daily".into(),
        row_count: Some(10),
        published_at: now,
        updated_at: now,
        updated_by: "steward".into(),
        version: 1,
    };
    store.add_catalogue_entries(id, now, &[entry]).unwrap();
}

async fn collection_register(w: &World) {
    let t = &w.t;
    tokio::task::block_in_place(|| seed_catalogue(w));
    let clock = &t.platform().clock;
    let start = support::now() as i64;
    clock.set(start);
    let collection = |fields: Value| {
        json!({"name": "社保参保登记", "department": "PROV", "purpose": "办理参保登记", "use_for": "社保待遇核定",
               "legal_basis": "《社会保险法》第五十八条", "channel": "政务服务窗口、网上办事大厅",
               "process": "申请人填报\n窗口审核\n入库", "format": "结构化表单", "frequency": "实时",
               "owner": "steward", "fields": fields, "review_interval_days": 365})
    };
    let fields = json!([
        {"name": "姓名", "data_type": "person_name"},
        {"name": "身份证号", "data_type": "cn_resident_id", "source": "social", "table": "insured", "column": "sfzh"},
        {"name": "参保险种"}
    ]);
    let (s, v) = t
        .post(&w.sec, "/api/v1/collections", collection(fields.clone()))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the steward registers: {v}");
    for (bad, field) in [
        (
            json!([{"name": "x", "data_type": "shoe_size"}]),
            "fields[0].data_type",
        ),
        (json!([{"name": "x", "source": "social"}]), "fields[0]"),
        (json!([{"name": "x"}, {"name": "x"}]), "fields[1].name"),
        (json!([]), "fields"),
    ] {
        let (s, v) = t
            .post(&w.steward, "/api/v1/collections", collection(bad))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {v}"
        );
    }
    let (s, c) = t
        .post(&w.steward, "/api/v1/collections", collection(fields))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    // Both typed fields are shared already by HEALTH (一数一源); the untyped one is not.
    let shared: Vec<&str> = c["shared_already"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert_eq!(shared, vec!["姓名", "身份证号"], "{c}");
    assert_eq!(c["shared_already"][1]["catalogue_code"], "HEALTH-0001");
    assert_eq!(c["next_review_at"], start + 365 * DAY);
    let reviews = format!("/api/v1/collections/{}/reviews", c["id"]);
    // Past its review date: one alert per missed date.
    clock.set(start + 366 * DAY);
    let p = t.platform();
    assert_eq!(
        shuan_server::routes::collections::check_reviews(p)
            .await
            .unwrap(),
        1
    );
    let (_, list) = t.get(&w.aud, "/api/v1/collections").await;
    assert_eq!(list[0]["review_overdue"], true, "{list}");
    let (s, v) = t
        .post(
            &w.steward,
            &reviews,
            json!({"outcome": "continue", "note": "依据未变，继续采集。"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["outcome_label"], "继续采集");
    let (_, list) = t.get(&w.aud, "/api/v1/collections").await;
    assert_eq!(list[0]["review_overdue"], false, "{list}");
    assert_eq!(list[0]["next_review_at"], start + 731 * DAY);
    let (s, v) = t
        .post(
            &w.steward,
            &reviews,
            json!({"outcome": "stop", "note": "改为通过共享获取身份证号。"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = t
        .post(
            &w.steward,
            &reviews,
            json!({"outcome": "continue", "note": "x"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a stopped collection is not reviewed: {v}"
    );
    let (s, v) = t.get(&w.aud, &reviews).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    clock.set(start + 2000 * DAY);
    assert_eq!(
        shuan_server::routes::collections::check_reviews(p)
            .await
            .unwrap(),
        0,
        "a stopped collection is never overdue"
    );
    clock.reset();
}

async fn lineage(w: &World) {
    let t = &w.t;
    let derive = |inputs: Value, output: &str| {
        json!({"operation": "汇总统计", "inputs": inputs, "output": output, "department": "PROV",
               "parameters": {"group_by": "区县"}})
    };
    let (s, v) = t
        .post(
            &w.clerk,
            "/api/v1/lineage/derivations",
            derive(json!(["a"]), "b"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = t
        .post(
            &w.steward,
            "/api/v1/lineage/derivations",
            derive(json!(["x"]), "x"),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // social/insured + social/payments → stats/by_county → report/2026.xlsx
    for (inputs, output) in [
        (
            json!(["social/insured", "social/payments"]),
            "stats/by_county",
        ),
        (json!(["stats/by_county"]), "report/2026.xlsx"),
    ] {
        let (s, v) = t
            .post(
                &w.steward,
                "/api/v1/lineage/derivations",
                derive(inputs, output),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["automatic"], false);
    }
    let (s, v) = t
        .get(&w.aud, "/api/v1/lineage?dataset=report/2026.xlsx")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["upstream"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["origins"], json!(["social/insured", "social/payments"]));
    assert_eq!(v["truncated"], false);
    let (_, v) = t
        .get(&w.aud, "/api/v1/lineage?dataset=social/payments")
        .await;
    let down: Vec<&str> = v["downstream"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["output"].as_str().unwrap())
        .collect();
    assert_eq!(down, vec!["stats/by_county", "report/2026.xlsx"], "{v}");
    // Depth 1 reaches only the nearest derivation and says it stopped.
    let (_, v) = t
        .get(&w.aud, "/api/v1/lineage?dataset=report/2026.xlsx&depth=1")
        .await;
    assert_eq!(v["upstream"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["truncated"], true);
    // A walk is itself audited.
    let (_, audit) = t.get(&w.aud, "/api/v1/audit?action=lineage.read").await;
    assert!(!audit.as_array().unwrap().is_empty(), "{audit}");
}

async fn all(store: Option<String>) {
    let w = world(store).await;
    risk_and_rectification(&w).await;
    emergency_plans_and_drills(&w).await;
    collection_register(&w).await;
    lineage(&w).await;
    let _ = &w.sys;
}

#[tokio::test(flavor = "multi_thread")]
async fn governance_records_on_the_sqlite_store() {
    all(None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn governance_records_on_the_postgres_store() {
    let store = tokio::task::spawn_blocking(|| fresh_postgres_database("shuan_govrec"))
        .await
        .unwrap();
    all(Some(store)).await;
}
